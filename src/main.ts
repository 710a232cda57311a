// The `paywarden` command line: start, migrate, keys, operators, jobs, doctor, backup, restore, demo, simulate.
import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { createLogger } from './log.ts';
import { openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createApiKeyService } from './keys/api-keys.ts';
import { systemClock } from './clock.ts';
import { startGateway } from './runtime.ts';
import { SecondWriterError } from './db/sqlite-writer-lock.ts';
import { printFirstRunHelp } from './cli/first-run.ts';
import { runDemo } from './cli/demo.ts';
import { createOperatorInvite, listOperators, unlockOperator } from './cli/operators.ts';
import { freeTextProblem } from './text/free-text.ts';
import { listJobs, runJobAgainFromCli } from './cli/jobs.ts';
import { collectList, createKeyFromCli, EXPIRY_HELP, listKeysText, rollKeyFromCli, SCOPE_HELP } from './cli/keys.ts';
import { customerDataFor, eraseCustomerFromCli, exportCustomerFromCli, selectorFrom } from './cli/customers.ts';
import { createOperatorService } from './operators/accounts.ts';
import { PROVIDER_FACTORIES } from './providers/factories.ts';
import { providerSpec } from './providers/catalogue.ts';
import { Secret } from './crypto/secret.ts';
import { doctorFromCli } from './cli/doctor.ts';
import { backupFromCli, restoreFromCli } from './cli/backup.ts';
import { registerAuditCommands } from './cli/audit-commands.ts';
import { registerPayoutCommands } from './cli/payout-commands.ts';
import { registerReceiptCommands } from './cli/receipt-commands.ts';
import { registerIncidentCommands } from './cli/incident.ts';
import { registerKeysAtRestCommands } from './cli/keys-at-rest.ts';
import { type KeysAtRest, openKeysAtRest } from './privacy/keys-at-rest.ts';

function config(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

async function withDatabase<T>(
  work: (cfg: Config, db: ReturnType<typeof openDatabase>, keys: () => Promise<KeysAtRest>) => Promise<T>,
): Promise<T> {
  const cfg = config();
  const database = openDatabase(cfg.databaseUrl);
  try {
    await migrateToLatest(database);
    // Opened only by the commands that need keys, so backup, restore and audit run without them.
    let opened: Promise<KeysAtRest> | undefined;
    const keys = () =>
      (opened ??= openKeysAtRest({
        db: database.db,
        masterKey: cfg.masterKey,
        previousMasterKeys: cfg.previousMasterKeys,
        clock: systemClock,
      }));
    return await work(cfg, database, keys);
  } finally {
    await database.close();
  }
}

const program = new Command().name('paywarden').description('Self-hosted payments gateway').showHelpAfterError();

program
  .command('start')
  .description('run the gateway (test mode on embedded defaults unless configured otherwise)')
  .action(async () => {
    const cfg = config();
    const logger = createLogger(cfg.logLevel);
    const gateway = await startGateway(cfg, logger).catch((error: unknown) => {
      if (!(error instanceof SecondWriterError)) throw error;
      console.error(error.message);
      process.exit(3);
    });
    await printFirstRunHelp(gateway, cfg);
    const stop = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await gateway.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('migrate')
  .description('apply database migrations and exit')
  .action(async () => {
    await withDatabase(async (cfg, database) => {
      console.log(`migrations applied to ${database.description}`);
      void cfg;
    });
  });

const keys = program.command('keys').description('manage API keys');
const keyService = async (database: ReturnType<typeof openDatabase>, keys: () => Promise<KeysAtRest>) =>
  createApiKeyService({ db: database.db, masterKey: (await keys()).purposeKeys, clock: systemClock });
const printResult = (result: { ok: boolean; text: string }, failureCode: number) => {
  (result.ok ? console.log : console.error)(result.text);
  if (!result.ok) process.exitCode = failureCode;
};
keys
  .command('create')
  .description('a new key, shown once (with its signing secret when it signs)')
  .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).default('test'))
  .option('--name <name>', 'a label for the key', 'default')
  .option('--scope <scopes>', SCOPE_HELP, collectList)
  .option('--expires-in-days <days>', EXPIRY_HELP)
  .option('--signed', 'every request must be signed (required, and set, for live keys with payouts:write)')
  .option(
    '--allow <cidrs>',
    'addresses or CIDR ranges the key may be used from (repeat or comma-separate)',
    collectList,
  )
  .option('--publishable', 'a pk_ key for browsers: reads one payment status by its client secret, nothing else')
  .action(async (opts: Parameters<typeof createKeyFromCli>[1]) => {
    await withDatabase(async (cfg, database, keys) =>
      printResult(
        await createKeyFromCli(await keyService(database, keys), { ...opts, liveEnabled: cfg.liveEnabled }),
        2,
      ),
    );
  });
keys
  .command('list')
  .description('every key with its scopes, expiry and status (a WARNING 14, 7 and 1 days before it expires)')
  .action(async () => {
    await withDatabase(async (_cfg, database, keys) =>
      console.log(await listKeysText(await keyService(database, keys), systemClock.nowMs())),
    );
  });
keys
  .command('roll')
  .description('a new key like this one; the old one keeps working for the overlap (default 24 h, at most 7 days)')
  .argument('<id>', 'the key id (key_...)')
  .option('--overlap-hours <hours>', 'how long the old key keeps working, 0 to 168', '24')
  .option('--expires-in-days <days>', EXPIRY_HELP)
  .action(async (id: string, opts: { overlapHours?: string; expiresInDays?: string }) => {
    await withDatabase(async (_cfg, database, keys) =>
      printResult(await rollKeyFromCli(await keyService(database, keys), id, opts), 1),
    );
  });
keys
  .command('revoke')
  .argument('<id>', 'the key id (key_...)')
  .action(async (id: string) => {
    await withDatabase(async (_cfg, database, keys) => {
      const revoked = await (await keyService(database, keys)).revoke(id);
      console.log(revoked ? `Revoked ${id}; it stops working at once.` : `No active key ${id}.`);
      if (!revoked) process.exitCode = 1;
    });
  });

const operatorsCommand = program.command('operators').description('dashboard operators');
operatorsCommand
  .command('create')
  .description('print a one-time enrolment link (24 h) for a new operator; the first must be an owner')
  .requiredOption('--email <email>', "the operator's email address")
  .option('--role <role>', 'owner, admin, developer, finance or viewer', 'owner')
  .action(async (opts: { email: string; role: string }) => {
    await withDatabase(async (cfg, database, keys) => {
      const operators = createOperatorService({
        db: database.db,
        dialect: database.dialect,
        clock: systemClock,
        masterKey: (await keys()).purposeKeys,
      });
      const result = await createOperatorInvite(operators, cfg.publicUrl, opts);
      (result.ok ? console.log : console.error)(result.text);
      if (!result.ok) process.exitCode = 2;
    });
  });
operatorsCommand
  .command('unlock')
  .description('end a lockout (10 failed sign-ins lock an account for 30 minutes) before it runs out; audited')
  .argument('<id>', 'the operator (op_..., from operators list)')
  .action(async (id: string) => {
    await withDatabase(async (_cfg, database, keys) => {
      const result = await unlockOperator(
        createOperatorService({
          db: database.db,
          dialect: database.dialect,
          clock: systemClock,
          masterKey: (await keys()).purposeKeys,
        }),
        id,
      );
      (result.ok ? console.log : console.error)(result.text);
      if (!result.ok) process.exitCode = 1;
    });
  });
operatorsCommand.command('list').action(async () => {
  await withDatabase(async (_cfg, database, keys) =>
    console.log(
      await listOperators(
        createOperatorService({
          db: database.db,
          dialect: database.dialect,
          clock: systemClock,
          masterKey: (await keys()).purposeKeys,
        }),
      ),
    ),
  );
});

const customersCommand = program.command('customers').description('customer data rights: export and erasure (DAT-3)');
const customerOption = (command: Command) =>
  command
    .option('--email <email>', "the customer's email")
    .option('--customer <id>', 'the customer id (cus_...)')
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).default('test'));
customerOption(customersCommand.command('export'))
  .description('print everything stored about one customer as one JSON document (audited)')
  .action(async (options: { email?: string; customer?: string; mode: 'test' | 'live' }) => {
    const who = selectorFrom(options);
    if (typeof who === 'string') return void ((process.exitCode = 2), console.error(who));
    await withDatabase(async (cfg, database, keys) =>
      console.log(
        await exportCustomerFromCli(
          await customerDataFor(await keys(), database.db, cfg.erasureJournalPath),
          options.mode,
          who,
        ),
      ),
    );
  });
customerOption(customersCommand.command('erase'))
  .description("destroy the customer's data key: their personal data unreadable everywhere (audited)")
  .requiredOption('--reason <text>', 'why (kept in the audit log; no personal data)')
  .action(async (options: { email?: string; customer?: string; mode: 'test' | 'live'; reason: string }) => {
    const who = selectorFrom(options);
    if (typeof who === 'string') return void ((process.exitCode = 2), console.error(who));
    // The same free-text rule as the API's reason (src/text/free-text.ts).
    const reasonProblem = freeTextProblem('--reason', options.reason, 3, 200);
    if (reasonProblem !== undefined) return void ((process.exitCode = 2), console.error(reasonProblem));
    await withDatabase(async (cfg, database, keys) =>
      console.log(
        await eraseCustomerFromCli(
          await customerDataFor(await keys(), database.db, cfg.erasureJournalPath),
          options.mode,
          who,
          options.reason,
        ),
      ),
    );
  });

const jobsCommand = program.command('jobs').description('the background job queue');
jobsCommand
  .command('list')
  .description('jobs waiting, running and dead; dead ones with their last error')
  .action(async () => {
    await withDatabase(async (_cfg, database) => console.log(await listJobs(database.db, systemClock)));
  });
jobsCommand
  .command('run-again')
  .description('queue a dead job again once its cause is fixed (audited)')
  .argument('<id>', 'the job id (job_...)')
  .action(async (id: string) => {
    await withDatabase(async (_cfg, database) => {
      const result = await runJobAgainFromCli(database.db, systemClock, id);
      (result.ok ? console.log : console.error)(result.text);
      if (!result.ok) process.exitCode = 1;
    });
  });

registerAuditCommands(program, withDatabase);
registerPayoutCommands(program, withDatabase);
registerReceiptCommands(program, withDatabase);

program
  .command('doctor')
  .description('check a deployment against the go-live checklist (LIVE-1); exits 1 on any fail')
  .option('--url <url>', 'the URL clients use (default: PAYWARDEN_PUBLIC_URL)')
  .option('--ca <file>', 'PEM certificate(s) to trust besides the system CAs')
  .option('--outside', 'this run is from outside the networks allowed to reach /metrics and the dashboard')
  .option('--no-env', 'check only what the URL shows (no configuration or database here)')
  .option('--backup-max-age-hours <hours>', 'how old the last verified backup may be', '26')
  .option('--json', 'machine-readable output')
  .action(async (opts: Parameters<typeof doctorFromCli>[0]) => {
    process.exitCode = await doctorFromCli(opts);
  });

program
  .command('backup')
  .description('an online, consistent copy of the database, opened and checked, recorded for doctor')
  .requiredOption('--dir <directory>', 'where to write the backup')
  .action(async (opts: { dir: string }) => {
    await withDatabase(async (cfg, database) => {
      process.exitCode = await backupFromCli(cfg, database, opts.dir);
    });
  });

program
  .command('restore')
  .description('replace the configured database with a verified backup (stop the gateway first)')
  .argument('<file>', 'a file written by paywarden backup')
  .option('--force', 'replace an existing SQLite database file')
  .action(async (file: string, opts: { force?: boolean }) => {
    process.exitCode = await restoreFromCli(config(), file, opts.force === true);
  });

registerIncidentCommands(program, withDatabase);
registerKeysAtRestCommands(program, withDatabase);

program
  .command('demo')
  .description('drive one complete test payment against the running gateway and print each step')
  .option('--url <url>', 'gateway URL', process.env.PAYWARDEN_URL ?? 'http://127.0.0.1:8080')
  .option('--key <key>', 'test secret key (default: $PAYWARDEN_API_KEY, or a new one created in the local database)')
  .action(async (opts: { url: string; key?: string }) => {
    const code = await runDemo({ url: opts.url, key: opts.key ?? process.env.PAYWARDEN_API_KEY, config: config() });
    process.exit(code);
  });

program
  .command('simulate')
  .argument('<provider>', `one of: ${Object.keys(PROVIDER_FACTORIES).join(', ')}`)
  .description('run a provider simulator alone, for your own tests')
  .option('--port <port>', 'port', '4010')
  .option('--webhook-url <url>', 'where to send signed webhooks')
  .option('--credential <field=value...>', 'a credential to expect instead of a random one (e.g. secretKey=...)')
  .action(async (provider: string, opts: { port: string; webhookUrl?: string; credential?: string[] }) => {
    const factory = PROVIDER_FACTORIES[provider];
    const spec = providerSpec(provider);
    if (factory === undefined || spec === undefined) {
      console.error(`No simulator for "${provider}". Available: ${Object.keys(PROVIDER_FACTORIES).join(', ')}`);
      process.exit(2);
    }
    const given = Object.fromEntries(
      (opts.credential ?? []).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
    );
    const credentials = Object.fromEntries(
      spec.credentials.map((c) => [c.field, new Secret(given[c.field] ?? c.generateTest())]),
    );
    const sim = await factory.startSimulator({ credentials, webhookUrl: opts.webhookUrl, port: Number(opts.port) });
    console.log(`${provider} simulator on ${sim.url}`);
    for (const [field, value] of Object.entries(credentials)) console.log(`  ${field}: ${value.reveal()}`);
    console.log(`  control API: ${sim.url}/_sim/ (see src/simulators/README.md)`);
    process.once('SIGINT', () => void sim.close().then(() => process.exit(0)));
    process.once('SIGTERM', () => void sim.close().then(() => process.exit(0)));
  });

await program.parseAsync(process.argv);
