// `paywarden keys-at-rest status|rotate|retire` (issue 12 §3): which master key versions and
// payload keys exist and what each protects; rotation in batches with progress lines and a dry
// run; retirement that refuses while anything still uses the version. Audited as the command line.
import type { Command } from 'commander';
import { Argument } from 'commander';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Db } from '../db/schema.ts';
import type { KeysAtRest } from '../privacy/keys-at-rest.ts';
import { LEGACY_WRAPPER_NAME } from '../privacy/key-wrapper.ts';
import { createKeyRotation, type RotationDeps, type RotationKind } from '../privacy/rotation.ts';
import { columnLabel, countSealedWith, PAYLOAD_SEALED_COLUMNS, sealedWith } from '../privacy/sealed-columns.ts';
import { createSystemKeys, payloadKeysNewestFirst } from '../privacy/system-keys.ts';

type WithDatabase = <T>(
  work: (cfg: Config, db: DatabaseHandle, keys: () => Promise<KeysAtRest>) => Promise<T>,
) => Promise<T>;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

async function wrappedCounts(db: Db): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of ['customer_keys', 'data_keys'] as const) {
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
  const open = await db.selectFrom('key_rotations').selectAll().where('finished_at', 'is', null).execute();
  lines.push(
    open.length === 0
      ? 'No rotation in progress.'
      : `Rotations in progress (run rotate again to resume): ${open.map((r) => `${r.kind} to ${r.target} (${r.rows_done} rows so far)`).join('; ')}`,
  );
  return lines.join('\n');
}

/** The rotation service as the command line runs it, on the deployment's own keys. */
export async function keyRotationFor(
  db: Db,
  keys: KeysAtRest,
  options: Partial<Pick<RotationDeps, 'batchSize' | 'progress' | 'afterBatch' | 'clock'>> = {},
) {
  const clock = options.clock ?? systemClock;
  const systemKeys = createSystemKeys({ db, wrapper: keys.wrapper, clock });
  await systemKeys.init();
  return createKeyRotation({
    db,
    wrapper: keys.wrapper,
    systemKeys,
    actor: { actorType: 'cli', actorId: null },
    ...options,
    clock,
  });
}

const kindArgument = () => new Argument('<what>', 'master or payloads').choices(['master', 'payloads']);

export function registerKeysAtRestCommands(program: Command, withDatabase: WithDatabase): void {
  const group = program
    .command('keys-at-rest')
    .description('keys that protect data at rest: status, rotation (master key, payload key), retirement');
  group
    .command('status')
    .description('every master key version and payload key, what each protects, rotations in progress')
    .action(async () => {
      await withDatabase(async (_cfg, database, keys) =>
        console.log(await keysAtRestStatus(database.db, await keys())),
      );
    });
  group
    .command('rotate')
    .description(
      'master: re-wrap every key under PAYWARDEN_MASTER_KEY (the old one in PAYWARDEN_MASTER_KEY_PREVIOUS); payloads: a new payload key, everything re-sealed',
    )
    .addArgument(kindArgument())
    .option('--dry-run', 'count what would change, change nothing')
    .option('--batch-size <n>', 'rows per batch', '500')
    .action(async (what: RotationKind, opts: { dryRun?: boolean; batchSize: string }) => {
      const batchSize = Number(opts.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
        console.error('--batch-size must be a whole number from 1 to 10000');
        process.exitCode = 2;
        return;
      }
      await withDatabase(async (_cfg, database, keys) => {
        const rotation = await keyRotationFor(database.db, await keys(), { batchSize, progress: console.log });
        const options = { dryRun: opts.dryRun === true };
        const outcome =
          what === 'master' ? await rotation.rotateMaster(options) : await rotation.rotatePayloads(options);
        console.log(
          outcome.dryRun
            ? `Dry run: ${outcome.rows} row(s) would change; nothing changed.`
            : `${outcome.finished ? 'Done' : 'Not finished'}: ${outcome.rows} row(s) moved to ${outcome.target}${outcome.resumed ? ' (resumed)' : ''}.`,
        );
      });
    });
  group
    .command('retire')
    .description('remove an old master key version or payload key, only when nothing uses it')
    .addArgument(kindArgument())
    .argument('<name>', 'the version (mk:...) or payload key id (dk_...), as status prints it')
    .action(async (what: RotationKind, name: string) => {
      await withDatabase(async (_cfg, database, keys) => {
        const rotation = await keyRotationFor(database.db, await keys());
        const result = await rotation.retire(what, name);
        if (result.ok) console.log(`Retired ${name}: it opens nothing from now on.`);
        else {
          console.error(`Refused: ${name} is still in use:\n  ${result.uses.join('\n  ')}`);
          process.exitCode = 1;
        }
      });
    });
}
