// `paywarden audit verify|seal|checkpoint|archive|public-key` (LOG-4, docs/audit-log.md). The work is
// in src/audit/; these functions only turn its results into text and an exit code.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/schema.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { writeCheckpoints } from '../audit/checkpoints.ts';
import { applyRetention } from '../audit/retention.ts';
import { sealAuditLog } from '../audit/sealer.ts';
import { checkpointSigner } from '../audit/signing-key.ts';
import { configuredKeyring, defaultArchiveDir } from '../audit/deployment.ts';
import { verifyAuditLog, type AuditVerifyReport } from '../audit/verify.ts';

export interface CliOutcome {
  readonly ok: boolean;
  readonly text: string;
}

export async function verifyFromCli(db: Db, config: Config, archiveDir?: string): Promise<CliOutcome> {
  const dir = archiveDir ?? defaultArchiveDir(config);
  const report = await verifyAuditLog({
    db,
    keyring: configuredKeyring(config),
    ...(archiveDir !== undefined || existsSync(dir) ? { archiveDir: dir } : {}),
  });
  return { ok: report.ok, text: describeReport(report) };
}

export function describeReport(report: AuditVerifyReport): string {
  const iso = (ms: number | null) => (ms === null ? 'none' : new Date(ms).toISOString());
  const lines = report.chains.map((c) =>
    [
      `${c.chain}: ${c.problem === null ? 'ok' : 'BROKEN'}`,
      `${c.rowsChecked} rows checked up to row ${c.headSeq}`,
      `${c.checkpointsChecked} checkpoints (newest ${iso(c.lastCheckpointAt)})`,
      ...(c.unsealedRows > 0 ? [`${c.unsealedRows} rows not sealed yet`] : []),
      ...(c.archivedRowsSkipped > 0 ? [`${c.archivedRowsSkipped} archived rows not read (no archive directory)`] : []),
    ].join(', '),
  );
  for (const p of report.problems)
    lines.push(`FIRST BAD in ${p.chain}: ${p.kind}${p.seq === null ? '' : ` at row ${p.seq}`}: ${p.message}`);
  lines.push(report.ok ? 'The audit log verifies.' : 'The audit log does NOT verify.');
  return lines.join('\n');
}

export async function sealFromCli(database: DatabaseHandle): Promise<CliOutcome> {
  const sealed = await sealAuditLog(database);
  return { ok: true, text: `${sealed} audit row${sealed === 1 ? '' : 's'} sealed.` };
}

export async function checkpointFromCli(database: DatabaseHandle, config: Config, clock: Clock): Promise<CliOutcome> {
  const written = await writeCheckpoints({
    db: database.db,
    dialect: database.dialect,
    clock,
    signer: checkpointSigner(config.auditSigningKey),
  });
  return { ok: true, text: `${written} checkpoint${written === 1 ? '' : 's'} signed.` };
}

export async function archiveFromCli(
  database: DatabaseHandle,
  config: Config,
  clock: Clock,
  archiveDir?: string,
): Promise<CliOutcome> {
  const dir = archiveDir ?? defaultArchiveDir(config);
  const result = await applyRetention({ db: database.db, dialect: database.dialect, clock, archiveDir: dir });
  const lines = [
    ...result.archived.map((a) => `archived ${a.chain} rows ${a.fromSeq}-${a.toSeq} to ${join(dir, a.fileName)}`),
    ...result.expired.map((e) => `deleted ${join(dir, e.fileName)} (past the 12-month retention)`),
    ...result.refused.map((r) => `NOT archived ${r.chain}: ${r.message}`),
  ];
  if (lines.length === 0) lines.push('Nothing to archive: no audit row is older than 3 months.');
  return { ok: result.refused.length === 0, text: lines.join('\n') };
}

export function publicKeyText(config: Config): string {
  const signer = checkpointSigner(config.auditSigningKey);
  return `${signer.keyId}\t${signer.publicKey}`;
}
