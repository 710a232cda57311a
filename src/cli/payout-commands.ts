// The `payouts` command group, registered by main.ts (kept here so main.ts stays a list of groups).
import type { Command } from 'commander';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { listPayoutsText, showPayoutText } from './payouts.ts';

type WithDatabase = <T>(work: (cfg: Config, db: DatabaseHandle) => Promise<T>) => Promise<T>;

function print(outcome: { ok: boolean; text: string }): void {
  (outcome.ok ? console.log : console.error)(outcome.text);
  if (!outcome.ok) process.exitCode = 1;
}

export function registerPayoutCommands(program: Command, withDatabase: WithDatabase): void {
  const payouts = program
    .command('payouts')
    .description('payouts: list them, show one with its attempts and provider calls');
  payouts
    .command('list')
    .description('newest first')
    .option('--mode <mode>', 'test or live', 'test')
    .option('--status <status>', 'only this status (unknown, requires_review, ...)')
    .option('--limit <n>', 'how many', '50')
    .action(async (opts: { mode: string; status?: string; limit: string }) => {
      const limit = Number(opts.limit);
      if (opts.mode !== 'test' && opts.mode !== 'live')
        return print({ ok: false, text: '--mode must be test or live' });
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        return print({ ok: false, text: '--limit must be a whole number from 1 to 1000' });
      await withDatabase(async (_cfg, database) =>
        print(
          await listPayoutsText(database.db, {
            mode: opts.mode as 'test' | 'live',
            limit,
            ...(opts.status === undefined ? {} : { status: opts.status }),
          }),
        ),
      );
    });
  payouts
    .command('show')
    .description('one payout: its attempts (references, sends) and every provider call with its answer')
    .argument('<id>', 'the payout id (po_...)')
    .action(async (id: string) => {
      await withDatabase(async (_cfg, database) => print(await showPayoutText(database.db, id)));
    });
}
