// The `audit` command group, registered by main.ts (kept here so main.ts stays a list of groups).
import type { Command } from 'commander';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import {
  archiveFromCli,
  checkpointFromCli,
  publicKeyText,
  sealFromCli,
  verifyFromCli,
  type CliOutcome,
} from './audit.ts';

type WithDatabase = <T>(work: (cfg: Config, db: DatabaseHandle) => Promise<T>) => Promise<T>;

function print(outcome: CliOutcome): void {
  (outcome.ok ? console.log : console.error)(outcome.text);
  if (!outcome.ok) process.exitCode = 1;
}

export function registerAuditCommands(program: Command, withDatabase: WithDatabase): void {
  const audit = program.command('audit').description('the tamper-evident audit log (docs/audit-log.md)');
  audit
    .command('verify')
    .description('check every audit chain, its archives and signed checkpoints; name the first bad row')
    .option('--archive-dir <dir>', 'where audit archive wrote its files (default DATA_DIR/audit-archive)')
    .action(async (opts: { archiveDir?: string }) => {
      await withDatabase(async (cfg, database) => print(await verifyFromCli(database.db, cfg, opts.archiveDir)));
    });
  audit
    .command('seal')
    .description('link committed audit rows into their chain now (the gateway does this every second)')
    .action(async () => {
      await withDatabase(async (_cfg, database) => print(await sealFromCli(database)));
    });
  audit
    .command('checkpoint')
    .description('seal, then sign each chain head now (the gateway does this every 5 minutes)')
    .action(async () => {
      await withDatabase(async (cfg, database) => print(await checkpointFromCli(database, cfg, systemClock)));
    });
  audit
    .command('archive')
    .description('move rows older than 3 months to archive files; delete files past 12 months (owner database URL)')
    .option('--archive-dir <dir>', 'where to write the files (default DATA_DIR/audit-archive)')
    .action(async (opts: { archiveDir?: string }) => {
      await withDatabase(async (cfg, database) =>
        print(await archiveFromCli(database, cfg, systemClock, opts.archiveDir)),
      );
    });
  audit
    .command('public-key')
    .description('print the checkpoint signing key id and public key (base64), for verifying elsewhere')
    .action(async () => {
      await withDatabase(async (cfg) => console.log(publicKeyText(cfg)));
    });
}
