// What the deployment's database says: durability settings, the last verified backup, dead jobs,
// keys about to expire, live webhook endpoints on https, the audit chain.
import type { DatabaseHandle } from '../db/database.ts';
import { latestVerifiedBackup } from '../backup/backup-service.ts';
import { result, type CheckResult } from './check.ts';
import type { CheckpointKeyring } from '../audit/signing-key.ts';
import { verifyAuditLog } from '../audit/verify.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** A daily backup that ran a couple of hours late is still "recent"; a missed day is not. */
export const BACKUP_MAX_AGE_HOURS = 26;
export const KEY_EXPIRY_WARN_DAYS = 14;

export interface DatabaseCheckInput {
  readonly database: DatabaseHandle;
  readonly nowMs: number;
  readonly liveEnabled: boolean;
  readonly backupMaxAgeHours?: number;
  /** The audit checkpoint public keys (from the configuration); without them the chain is not checked. */
  readonly auditKeyring?: CheckpointKeyring;
  /** Where `paywarden audit archive` wrote its files, when they are on this host. */
  readonly auditArchiveDir?: string;
}

export async function databaseChecks(input: DatabaseCheckInput): Promise<CheckResult[]> {
  return [
    await durability(input),
    await backup(input),
    await deadJobs(input),
    await keyExpiry(input),
    await endpointsHttps(input),
    await auditChain(input),
  ];
}

async function durability({ database }: DatabaseCheckInput): Promise<CheckResult> {
  const settings = await database.dialect.durability(database.db);
  const wrong = settings.filter((s) => !s.ok);
  const described = settings.map((s) => `${s.name}=${s.value}`).join(', ');
  if (wrong.length > 0)
    return result(
      'db.durability',
      'LIVE-1',
      'fail',
      `${database.dialect.name}: ${wrong.map((s) => `${s.name} is ${s.value}, needs ${s.required}`).join('; ')}: an acknowledged payment or webhook can be lost in a power cut`,
      database.dialect.name === 'postgres'
        ? 'set fsync=on, synchronous_commit=on and full_page_writes=on in postgresql.conf (and remove any ALTER ROLE/DATABASE ... SET synchronous_commit)'
        : 'run the gateway from this release: it opens SQLite with journal_mode=WAL and synchronous=FULL',
    );
  return result('db.durability', 'LIVE-1', 'pass', `${database.dialect.name}: ${described}`);
}

async function backup(input: DatabaseCheckInput): Promise<CheckResult> {
  const maxAgeHours = input.backupMaxAgeHours ?? BACKUP_MAX_AGE_HOURS;
  const latest = await latestVerifiedBackup(input.database);
  const fix = `schedule \`paywarden backup --dir DIR\` at least daily (cron or a systemd timer) and copy DIR off the host`;
  if (latest === undefined)
    return result('backup.recent', 'LIVE-1', 'fail', 'no verified backup is recorded for this database', fix);
  const ageHours = (input.nowMs - latest.finishedAt) / HOUR_MS;
  if (ageHours > maxAgeHours)
    return result(
      'backup.recent',
      'LIVE-1',
      'fail',
      `the last verified backup is ${Math.floor(ageHours)} h old (${new Date(latest.finishedAt).toISOString()})`,
      fix,
    );
  return result(
    'backup.recent',
    'LIVE-1',
    'pass',
    `verified backup ${Math.floor(ageHours)} h ago: ${latest.location} (doctor cannot see whether it was copied off this host)`,
  );
}

async function deadJobs({ database }: DatabaseCheckInput): Promise<CheckResult> {
  const row = await database.db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'dead')
    .executeTakeFirst();
  const dead = Number(row?.n ?? 0);
  if (dead > 0)
    return result(
      'jobs.dead',
      'MON-1, WHO-2',
      'fail',
      `${dead} dead job(s): work that gave up (a payment not verified, an event not delivered)`,
      '`paywarden jobs list` says why; fix the cause, then `paywarden jobs run-again job_...`',
    );
  return result('jobs.dead', 'MON-1, WHO-2', 'pass', 'no dead jobs');
}

async function keyExpiry(input: DatabaseCheckInput): Promise<CheckResult> {
  const active = await input.database.db
    .selectFrom('api_keys')
    .select(['id', 'mode', 'expires_at'])
    .where('revoked_at', 'is', null)
    .execute();
  const withExpiry = active.filter((k) => k.expires_at !== null);
  if (withExpiry.length === 0)
    return result(
      'keys.expiry',
      'API-3',
      'skip',
      `not available: none of the ${active.length} active API key(s) carries an expiry in this version`,
    );
  const soon = withExpiry.filter((k) => (k.expires_at as number) - input.nowMs < KEY_EXPIRY_WARN_DAYS * DAY_MS);
  if (soon.length > 0)
    return result(
      'keys.expiry',
      'API-3',
      'warn',
      `${soon.length} key(s) expire within ${KEY_EXPIRY_WARN_DAYS} days or have expired: ${soon.map((k) => `${k.id} (${k.mode}, ${new Date(k.expires_at as number).toISOString().slice(0, 10)})`).join(', ')}`,
      'create the replacement key, deploy it to your backend, then revoke the old one',
    );
  return result('keys.expiry', 'API-3', 'pass', `no active key expires within ${KEY_EXPIRY_WARN_DAYS} days`);
}

async function endpointsHttps({ database }: DatabaseCheckInput): Promise<CheckResult> {
  const rows = await database.db
    .selectFrom('webhook_endpoints')
    .select(['id', 'url'])
    .where('mode', '=', 'live')
    .where('deleted_at', 'is', null)
    .execute();
  const plain = rows.filter((r) => !r.url.startsWith('https://'));
  if (plain.length > 0)
    return result(
      'endpoints.https',
      'WHO-3, WHI-8',
      'fail',
      `live webhook endpoint(s) without https: ${plain.map((r) => r.id).join(', ')}`,
      'register an https URL for each and delete the old endpoint',
    );
  return result('endpoints.https', 'WHO-3, WHI-8', 'pass', `${rows.length} live endpoint(s), all https`);
}

/** LOG-4: the same verification as `paywarden audit verify` (src/audit/verify.ts). */
async function auditChain(input: DatabaseCheckInput): Promise<CheckResult> {
  if (input.auditKeyring === undefined)
    return result('audit.chain', 'LOG-4', 'skip', 'no configuration here: the checkpoint key is unknown');
  const report = await verifyAuditLog({
    db: input.database.db,
    keyring: input.auditKeyring,
    nowMs: input.nowMs,
    ...(input.auditArchiveDir === undefined ? {} : { archiveDir: input.auditArchiveDir }),
  });
  const rows = report.chains.reduce((n, c) => n + c.rowsChecked, 0);
  const first = report.problems[0];
  if (first !== undefined)
    return result(
      'audit.chain',
      'LOG-4',
      'fail',
      `${first.chain} chain: ${first.kind}${first.seq === null ? '' : ` at row ${first.seq}`}: ${first.message}`,
      'run paywarden audit verify, and investigate who could write the database (docs/audit-log.md)',
    );
  const unsealed = report.chains.reduce((n, c) => n + c.unsealedRows, 0);
  return result(
    'audit.chain',
    'LOG-4',
    'pass',
    `${rows} audit rows in ${report.chains.length} chains verify${unsealed > 0 ? ` (${unsealed} written in the last 5 minutes not sealed yet)` : ''}`,
  );
}
