// What the audit hash chain costs a payment transition (LOG-4): the transaction a transition runs
// (payment update, event row, endpoint look-up, audit row) with the audit writer (the row inserted
// unsealed, src/audit/chain.ts) while the sealer runs beside it (src/audit/sealer.ts, a pass every
// 100 ms: ten times the gateway's rate), against the same transaction writing
// the audit row as one plain INSERT that nothing seals (the writer before the chain). Alternating
// A/B rounds on SQLite and, when reachable, PostgreSQL; one writer and 16 at once. After each
// sealed round, what the sealer still had to seal and how fast it sealed it.
//   node bench/audit-chain.ts            (BENCH_OPS per round, default 400)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeAudit } from '../src/audit/audit.ts';
import { sealAuditLog } from '../src/audit/sealer.ts';
import { systemClock } from '../src/clock.ts';
import { openDatabase, type DatabaseHandle } from '../src/db/database.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { Tx } from '../src/db/schema.ts';
import { newId, randomBase62 } from '../src/ids.ts';

const OPS = Number(process.env.BENCH_OPS ?? 400);
/** Between sealer passes: a tenth of the gateway's second, so every round is sealed many times. */
const SEAL_PAUSE_MS = 100;
const POSTGRES_URL = process.env.PAYWARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let plainSeq = 0;

async function transitionLike(tx: Tx, chained: boolean): Promise<void> {
  const paymentId = newId('pay');
  await tx.updateTable('payments').set({ updated_at: 1 }).where('id', '=', paymentId).execute();
  await tx
    .insertInto('events')
    .values({
      id: newId('evt'),
      mode: 'test',
      type: 'payment.succeeded',
      object_id: paymentId,
      data_json: '{}',
      created_at: 1,
    })
    .execute();
  await tx.selectFrom('webhook_endpoints').select('id').where('mode', '=', 'test').execute();
  const entry = {
    mode: 'test' as const,
    actorType: 'system' as const,
    actorId: null,
    action: 'payment.transition.pending.succeeded',
    objectType: 'payment',
    objectId: paymentId,
    details: { from: 'pending', to: 'succeeded', reason: 'verified' },
  };
  if (chained) {
    await writeAudit(tx, systemClock, entry);
    return;
  }
  plainSeq += 1;
  await tx
    .insertInto('audit_log')
    .values({
      id: newId('aud'),
      mode: 'test',
      actor_type: 'system',
      actor_id: null,
      action: entry.action,
      object_type: 'payment',
      object_id: paymentId,
      request_id: null,
      ip: null,
      user_agent: null,
      result: 'success',
      details_json: JSON.stringify(entry.details),
      created_at: 1,
      chain: 'bench_plain',
      seq: -plainSeq,
      prev_hash: '',
      hash: '',
    })
    .execute();
}

async function round(handle: DatabaseHandle, chained: boolean, concurrency: number): Promise<number> {
  let writing = true;
  // The sealer beside the writers, as the gateway's loop (skip a head another sealer holds).
  const sealer = chained
    ? (async () => {
        while (writing) {
          await sealAuditLog(handle, { skipLocked: true });
          await sleep(SEAL_PAUSE_MS);
        }
      })()
    : Promise.resolve();
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < OPS) {
        next += 1;
        await handle.db.transaction().execute((tx) => transitionLike(tx, chained));
      }
    }),
  );
  const rate = (OPS / (performance.now() - start)) * 1000;
  writing = false;
  await sealer;
  if (chained) {
    const drainStart = performance.now();
    const left = await sealAuditLog(handle);
    backlog.push({ left, ms: performance.now() - drainStart });
  }
  return rate;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const backlog: { left: number; ms: number }[] = [];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, handle: DatabaseHandle): Promise<void> {
  await migrateToLatest(handle);
  for (const concurrency of [1, 16]) {
    const plain: number[] = [];
    const chained: number[] = [];
    backlog.length = 0;
    await round(handle, false, concurrency); // warm-up
    for (let i = 0; i < 5; i += 1) {
      plain.push(await round(handle, false, concurrency));
      chained.push(await round(handle, true, concurrency));
    }
    const [p, c] = [median(plain), median(chained)];
    const left = median(backlog.map((b) => b.left));
    const drainMs = median(backlog.map((b) => b.ms));
    console.log(
      `| ${name} | ${concurrency} | ${p.toFixed(0)} | ${c.toFixed(0)} | ${(((c - p) / p) * 100).toFixed(0)}% | ${((1000 / c - 1000 / p) * concurrency).toFixed(2)} | ${left} in ${drainMs.toFixed(0)} ms |`,
    );
  }
}

console.log(
  '| database | writers | plain audit tx/s | unsealed audit + sealer tx/s | change | extra ms per transition | left to seal after a round (median) |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|');
const dir = mkdtempSync(join(tmpdir(), 'paywarden-bench-audit-'));
const sqlite = openDatabase(join(dir, 'bench.sqlite'));
try {
  await measure('SQLite', sqlite);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}
const schema = `bench_audit_${randomBase62(8).toLowerCase()}`;
const admin = new pg.Client({ connectionString: POSTGRES_URL });
try {
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const postgres = openDatabase(url.toString(), { poolSize: 16 });
  try {
    await measure('PostgreSQL', postgres);
  } finally {
    await postgres.close();
  }
} catch (error) {
  console.log(`PostgreSQL skipped: ${String(error)}`);
} finally {
  await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
  await admin.end().catch(() => undefined);
}
