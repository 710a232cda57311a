// `paywarden keys-at-rest status|rotate|retire` (issue 12 §3): which master key versions, payload
// keys and customer key versions exist and what each protects; rotations started here and run by
// the gateway's job workers in batches (or here, with --wait), with a dry run; retirement that
// refuses while anything still uses the version. Audited as the command line.
import type { Command } from 'commander';
import { Argument } from 'commander';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Db, Mode } from '../db/schema.ts';
import { createJobQueue } from '../jobs/queue.ts';
import { countByVersion, parseCustomerScope } from '../privacy/customer-rotation.ts';
import type { KeysAtRest } from '../privacy/keys-at-rest.ts';
import { LEGACY_WRAPPER_NAME } from '../privacy/key-wrapper.ts';
import { createPrivacyService } from '../privacy/privacy-service.ts';
import { keyRotationJobKey } from '../privacy/rotation-batch.ts';
import { createKeyRotation, type RotationDeps, type RotationKind } from '../privacy/rotation.ts';
import { columnLabel, countSealedWith, PAYLOAD_SEALED_COLUMNS, sealedWith } from '../privacy/sealed-columns.ts';
import { createSystemKeys, payloadKeysNewestFirst } from '../privacy/system-keys.ts';

type WithDatabase = <T>(
  work: (cfg: Config, db: DatabaseHandle, keys: () => Promise<KeysAtRest>) => Promise<T>,
) => Promise<T>;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

async function wrappedCounts(db: Db): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of ['customer_keys', 'customer_key_versions', 'data_keys'] as const) {
    const rows = await db
      .selectFrom(table)
      .select(['wrapped_by', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('wrapped_key', 'is not', null)
      .groupBy('wrapped_by')
      .execute();
    for (const r of rows) counts.set(r.wrapped_by, (counts.get(r.wrapped_by) ?? 0) + Number(r.n));
  }
  return counts;
}

/** The newest job of an unfinished rotation: its state, attempts and last error. */
async function rotationJobState(db: Db, rotationId: string, step: number): Promise<string> {
  const job = await db
    .selectFrom('jobs')
    .select(['status', 'attempts', 'last_error', 'run_at'])
    .where('dedupe_key', 'in', [keyRotationJobKey(rotationId, step), keyRotationJobKey(rotationId, step - 1)])
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (job === undefined) return 'no job queued (run rotate again to resume)';
  const error = job.last_error === null ? '' : `, last error: ${job.last_error}`;
  return `job ${job.status} (attempt ${job.attempts}, due ${iso(Number(job.run_at))}${error})`;
}

/** What `keys-at-rest status` prints: every version, what it protects, and rotations left open. */
export async function keysAtRestStatus(db: Db, keys: KeysAtRest): Promise<string> {
  const lines: string[] = ['Master key versions (wrap every data key; the keys themselves live in the environment):'];
  const wrapped = await wrappedCounts(db);
  for (const m of await db.selectFrom('master_keys').selectAll().orderBy('first_used_at').execute()) {
    const state =
      m.retired_at !== null
        ? `retired ${iso(m.retired_at)}`
        : m.name === keys.wrapper.keyName
          ? 'current'
          : keys.wrapper.readable.includes(m.name)
            ? 'previous (opens only)'
            : 'not configured';
    lines.push(`  ${m.name}  ${state}  wraps ${wrapped.get(m.name) ?? 0} key(s)  first used ${iso(m.first_used_at)}`);
  }
  const legacy = wrapped.get(LEGACY_WRAPPER_NAME) ?? 0;
  if (legacy > 0) lines.push(`  ${LEGACY_WRAPPER_NAME}  (wrapped before versions were named)  wraps ${legacy} key(s)`);
  lines.push('Payload keys (raw provider payloads, stored API answers, beneficiaries):');
  const payloadKeys = await payloadKeysNewestFirst(db);
  for (const [index, k] of payloadKeys.entries()) {
    const uses: string[] = [];
    for (const c of PAYLOAD_SEALED_COLUMNS) {
      const n = await countSealedWith(db, c, sealedWith(k.id));
      if (n > 0) uses.push(`${columnLabel(c)} ${n}`);
    }
    lines.push(
      `  ${k.id}  ${index === 0 ? 'current' : 'older'}  made ${iso(k.created_at)}  seals ${uses.length === 0 ? 'nothing' : uses.join(', ')}`,
    );
  }
  lines.push("Customers' data keys (payments' personal fields and their events), values per key version:");
  for (const mode of ['test', 'live'] as Mode[]) {
    const live = await db
      .selectFrom('customer_keys')
      .select([(eb) => eb.fn.countAll<number | string>().as('n'), (eb) => eb.fn.max('key_version').as('top')])
      .where('mode', '=', mode)
      .where('erased_at', 'is', null)
      .executeTakeFirst();
    const kept = await db
      .selectFrom('customer_key_versions as v')
      .innerJoin('customer_keys as c', 'c.id', 'v.customer_id')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('c.mode', '=', mode)
      .executeTakeFirst();
    const perVersion = [...(await countByVersion(db, mode)).entries()].map(([v, n]) => `v${v} ${n}`);
    lines.push(
      `  ${mode}: ${Number(live?.n ?? 0)} customer(s), newest version v${Number(live?.top ?? 1)}; values ${perVersion.length === 0 ? 'none' : perVersion.join(', ')}; superseded versions kept ${Number(kept?.n ?? 0)}`,
    );
  }
  const open = await db.selectFrom('key_rotations').selectAll().where('finished_at', 'is', null).execute();
  if (open.length === 0) lines.push('No rotation in progress.');
  else lines.push('Rotations in progress (run by the gateway\'s job workers; "rotate" again resumes a stopped one):');
  for (const r of open)
    lines.push(
      `  ${r.id}  ${r.kind}${r.scope === null ? '' : ` (${r.scope})`} to ${r.target}, started ${iso(r.started_at)}: ${Number(r.rows_done)} row(s) in ${Number(r.step)} batch(es); ${await rotationJobState(db, r.id, Number(r.step))}`,
    );
  return lines.join('\n');
}

/** The rotation service as the command line runs it, on the deployment's own keys. */
export async function keyRotationFor(
  database: Pick<DatabaseHandle, 'db' | 'dialect'>,
  keys: KeysAtRest,
  options: Partial<
    Pick<RotationDeps, 'batchSize' | 'progress' | 'afterBatch' | 'beforeCommit' | 'clock' | 'actor'>
  > = {},
) {
  const clock = options.clock ?? systemClock;
  const { db } = database;
  const systemKeys = createSystemKeys({ db, wrapper: keys.wrapper, clock });
  await systemKeys.init();
  const privacy = createPrivacyService({ keys: keys.purposeKeys, wrapper: keys.wrapper, clock });
  return createKeyRotation({
    db,
    wrapper: keys.wrapper,
    systemKeys,
    customerKeys: privacy.customerKeys,
    queue: createJobQueue({ db, dialect: database.dialect, clock }),
    actor: { actorType: 'cli', actorId: null },
    ...options,
    clock,
  });
}

const KINDS = ['master', 'payloads', 'customers'];
const kindArgument = () => new Argument('<what>', KINDS.join(', ')).choices(KINDS);

export function registerKeysAtRestCommands(program: Command, withDatabase: WithDatabase): void {
  const group = program
    .command('keys-at-rest')
    .description(
      'keys that protect data at rest: status, rotation (master key, payload key, customer keys), retirement',
    );
  group
    .command('status')
    .description(
      'every master key version, payload key and customer key version, what each protects, rotations in progress',
    )
    .action(async () => {
      await withDatabase(async (_cfg, database, keys) =>
        console.log(await keysAtRestStatus(database.db, await keys())),
      );
    });
  group
    .command('rotate')
    .description(
      "master: re-wrap every key under PAYWARDEN_MASTER_KEY (the old one in PAYWARDEN_MASTER_KEY_PREVIOUS); payloads: a new payload key, everything re-sealed; customers: a new data key version for every customer of a mode (or one customer), their data re-sealed. Enqueued for the gateway's job workers unless --wait",
    )
    .addArgument(kindArgument())
    .argument('[scope]', 'customers only: test, live or one customer id (cus_...)')
    .option('--dry-run', 'count what would change, change nothing')
    .option('--wait', 'run the batches in this process until done (the job picks up if it stops)')
    .option('--batch-size <n>', 'rows per batch', '500')
    .action(
      async (
        what: RotationKind,
        scopeText: string | undefined,
        opts: { dryRun?: boolean; wait?: boolean; batchSize: string },
      ) => {
        const batchSize = Number(opts.batchSize);
        if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
          console.error('--batch-size must be a whole number from 1 to 10000');
          process.exitCode = 2;
          return;
        }
        const scope = scopeText === undefined ? undefined : parseCustomerScope(scopeText);
        if ((what === 'customers') !== (scopeText !== undefined) || (scopeText !== undefined && scope === undefined)) {
          console.error(
            'rotate customers takes a scope: test, live or one customer id (cus_...); the others take none',
          );
          process.exitCode = 2;
          return;
        }
        await withDatabase(async (_cfg, database, keys) => {
          const rotation = await keyRotationFor(database, await keys(), { batchSize, progress: console.log });
          const options = { dryRun: opts.dryRun === true, wait: opts.wait === true };
          const outcome =
            what === 'master'
              ? await rotation.rotateMaster(options)
              : what === 'payloads'
                ? await rotation.rotatePayloads(options)
                : await rotation.rotateCustomers(scope!, options);
          console.log(
            outcome.dryRun
              ? `Dry run: ${outcome.rows} row(s) would change; nothing changed.`
              : opts.wait !== true
                ? `Started: rotation ${outcome.rotationId} to ${outcome.target}${outcome.resumed ? ' (resumed)' : ''} is queued for the gateway's job workers; follow it with keys-at-rest status.`
                : `${outcome.finished ? 'Done' : 'Not finished (the job finishes it)'}: ${outcome.rows} row(s) moved to ${outcome.target}${outcome.resumed ? ' (resumed)' : ''}.`,
          );
        });
      },
    );
  group
    .command('retire')
    .description(
      'remove an old master key version, payload key, or the superseded customer key versions of a mode or customer, only when nothing uses them',
    )
    .addArgument(kindArgument())
    .argument(
      '<name>',
      'the version (mk:...), payload key id (dk_...), or customers: test, live or cus_..., as status prints them',
    )
    .action(async (what: RotationKind, name: string) => {
      await withDatabase(async (_cfg, database, keys) => {
        const rotation = await keyRotationFor(database, await keys());
        const result = await rotation.retire(what, name);
        if (result.ok)
          console.log(
            what === 'customers'
              ? `Retired ${result.retired ?? 0} superseded customer key version(s) of ${name}: they open nothing from now on.`
              : `Retired ${name}: it opens nothing from now on.`,
          );
        else {
          console.error(`Refused: ${name} is still in use:\n  ${result.uses.join('\n  ')}`);
          process.exitCode = 1;
        }
      });
    });
}
