// `node bench/statements.ts`: statements and database round trips per payment, phase by phase
// (creation, webhook ingest, processing: the webhook job with its verify call and transition, then
// the delivery job), on SQLite and, when reachable, PostgreSQL. Counts do not depend on the
// machine's load, unlike req/s, so they show what a change to the hot path saves.
//   - SQLite: every request the event loop sends to the SQLite thread is a round trip; a
//     statement is a `query` (begin/commit included) or one row of an ingest batch. Messages
//     counts the hand-offs to the thread (requests made together travel as one message).
//   - PostgreSQL: every `query` on a pooled client is a round trip and a statement.
// STATEMENTS_PAYMENTS (default 200) payments; STATEMENTS_VERBOSE=1 lists each statement shape.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { loadConfig } from '../src/config/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { SqliteThread } from '../src/db/sqlite-thread/driver.ts';
import { createLogger } from '../src/log.ts';
import { startGateway } from '../src/runtime.ts';
import { SCOPES } from '../src/keys/scopes.ts';
import { startMerchant } from './flow.ts';

const PAYMENTS = Number(process.env.STATEMENTS_PAYMENTS ?? 200);
const VERBOSE = process.env.STATEMENTS_VERBOSE === '1';
const POSTGRES_URL = process.env.PAYWARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Statement shapes counted since the last reset: the first words of the SQL, parameters stripped. */
const counts = { roundTrips: 0, statements: 0, messages: 0, shapes: new Map<string, number>() };
const shapeOf = (sql: string) =>
  sql
    .replace(/\s+/g, ' ')
    .replace(/\$\d+|\?/g, '?')
    .replace(/(\?, )+\?/g, '?…')
    .slice(0, 110);
function count(sql: string, statements = 1): void {
  counts.roundTrips += 1;
  counts.statements += statements;
  const shape = shapeOf(sql);
  counts.shapes.set(shape, (counts.shapes.get(shape) ?? 0) + statements);
}
function take() {
  const taken = {
    roundTrips: counts.roundTrips,
    statements: counts.statements,
    messages: counts.messages,
    shapes: new Map(counts.shapes),
  };
  counts.roundTrips = 0;
  counts.statements = 0;
  counts.messages = 0;
  counts.shapes.clear();
  return taken;
}

// SQLite: count on the way to the thread.
const sqliteRequest = SqliteThread.prototype.request;
SqliteThread.prototype.request = function (this: SqliteThread, body: Parameters<SqliteThread['request']>[0]) {
  if (body.op === 'query') count(body.sql);
  // An ingest batch is one round trip carrying two inserts (webhook and job) per row.
  else if (body.op === 'ingest') count('ingest batch (webhook + job per row)', 2 * JSON.parse(body.rowsJson).length);
  // An atomic batch (the dialect's writeAtomically) is one round trip carrying its statements.
  else if (body.op === 'atomic')
    count(
      `atomic batch: ${body.statements.map((s) => shapeOf(s.sql).slice(0, 30)).join(' + ')}`,
      body.statements.length,
    );
  return sqliteRequest.call(this, body) as never;
} as typeof sqliteRequest;
// Statements inside a transaction answered synchronously (when the driver has that path).
const proto = SqliteThread.prototype as unknown as Record<string, unknown>;
type SyncBody = { op: 'query'; sql: string } | { op: 'writes'; statements: ReadonlyArray<{ sql: string }> };
const sqliteRequestSync = proto.requestSync as ((body: SyncBody) => unknown) | undefined;
if (sqliteRequestSync !== undefined)
  proto.requestSync = function (this: SqliteThread, body: SyncBody) {
    // It travels on a port of its own, not through Worker.postMessage: one message.
    counts.messages += 1;
    // A transaction's writes sent together (src/db/transaction-writes.ts): one round trip.
    if (body.op === 'writes')
      count(
        `transaction writes: ${body.statements.map((s) => shapeOf(s.sql).slice(0, 30)).join(' + ')}`,
        body.statements.length,
      );
    else count(body.sql);
    return sqliteRequestSync.call(this, body);
  };
const postMessage = Worker.prototype.postMessage;
Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
  counts.messages += 1;
  return postMessage.apply(this, args);
};

// PostgreSQL: count on every pooled client.
const pgQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  count(typeof first === 'string' ? first : String((first as { text?: string }).text ?? '?'));
  return (pgQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof pgQuery;

interface Phase {
  name: string;
  roundTrips: number;
  statements: number;
  messages: number;
  shapes: Map<string, number>;
}

async function measure(label: string, databaseUrl: string, cleanup: () => Promise<void>): Promise<Phase[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-statements-'));
  const config = loadConfig({
    PAYWARDEN_DATA_DIR: dataDir,
    PAYWARDEN_PORT: '0',
    PAYWARDEN_SIMULATOR_PORT: '0',
    PAYWARDEN_DATABASE_URL: databaseUrl,
    PAYWARDEN_LOG_LEVEL: 'error',
    PAYWARDEN_SHED_EVENT_LOOP_DELAY_MS: '0',
    PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '100000000',
    PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '100000000',
  });
  const database = openDatabase(config.databaseUrl, { poolSize: 10 });
  const gateway = await startGateway(config, createLogger(config.logLevel), { database, runWorkers: false });
  const merchant = await startMerchant();
  const phases: Phase[] = [];
  try {
    const { key } = await gateway.services.keys.create({ mode: 'test', name: 'statements', scopes: SCOPES });
    const api = async (path: string, body: unknown) => {
      const response = await fetch(`${gateway.url}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${text}`);
      return JSON.parse(text) as { id: string };
    };
    await api('/v1/webhook_endpoints', { url: merchant.url, events: ['payment.succeeded'] });
    const create = () =>
      api('/v1/payments', {
        amount: 1000,
        currency: 'NGN',
        reference: `statements-${randomUUID()}`,
        customer: { email: 'count@example.com' },
        redirect_url: 'https://m.example/r',
      });
    // Warm up (first-use reads, prepared statements, lazy key loads), not counted.
    const warm = await create();
    await complete(gateway.simulatorUrl!, warm.id);
    while (merchant.received() < 1) await drainOnce(gateway);
    take();

    const ids: string[] = [];
    for (let i = 0; i < PAYMENTS; i += 8)
      ids.push(...(await Promise.all(Array.from({ length: Math.min(8, PAYMENTS - i) }, create))).map((p) => p.id));
    phases.push({ name: `${label}: payment creation (POST /v1/payments)`, ...take() });

    const arrived = Promise.all(ids.map((id) => merchant.arrival(id)));
    for (let i = 0; i < ids.length; i += 16)
      await Promise.all(ids.slice(i, i + 16).map((id) => complete(gateway.simulatorUrl!, id)));
    // The simulator sends each webhook before answering; give the ingest batches a moment to commit.
    await new Promise((resolve) => setTimeout(resolve, 500));
    phases.push({ name: `${label}: webhook ingest`, ...take() });

    while (merchant.received() < PAYMENTS + 1) await drainOnce(gateway);
    await arrived;
    phases.push({ name: `${label}: processing (webhook job, verify, transition, delivery)`, ...take() });
  } finally {
    merchant.close();
    await gateway.close();
    await database.close();
    await cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return phases;
}

async function drainOnce(gateway: Awaited<ReturnType<typeof startGateway>>): Promise<void> {
  if ((await gateway.services.worker.drain()) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
}

async function complete(simulatorUrl: string, paymentId: string): Promise<void> {
  const response = await fetch(`${simulatorUrl}/_sim/transactions/${paymentId}/complete`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"status":"successful"}',
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`completing ${paymentId} answered ${response.status}: ${text}`);
}

async function postgresSchema(): Promise<{ url: string; cleanup: () => Promise<void> } | undefined> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
    await admin.query('drop schema if exists paywarden_statements cascade; create schema paywarden_statements');
  } catch {
    return undefined;
  } finally {
    await admin.end().catch(() => undefined);
  }
  const url = new URL(POSTGRES_URL);
  url.searchParams.set('options', '-c search_path=paywarden_statements');
  return {
    url: url.toString(),
    async cleanup() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query('drop schema if exists paywarden_statements cascade');
      await client.end();
    },
  };
}

const results: Phase[] = [];
const dir = mkdtempSync(join(tmpdir(), 'paywarden-statements-db-'));
results.push(
  ...(await measure('SQLite', join(dir, 'gateway.sqlite'), async () => rmSync(dir, { recursive: true, force: true }))),
);
take();
const postgres = await postgresSchema();
take();
if (postgres === undefined) console.log('PostgreSQL not reachable; its counts are skipped.');
else results.push(...(await measure('PostgreSQL', postgres.url, postgres.cleanup)));

console.log(`\n${PAYMENTS} payments; per payment:\n`);
console.log('| phase | round trips | statements | messages to the SQLite thread |');
console.log('|---|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${r.name} | ${(r.roundTrips / PAYMENTS).toFixed(2)} | ${(r.statements / PAYMENTS).toFixed(2)} | ${r.name.startsWith('SQLite') ? (r.messages / PAYMENTS).toFixed(2) : ''} |`,
  );
if (VERBOSE)
  for (const r of results) {
    console.log(`\n${r.name}:`);
    for (const [shape, n] of [...r.shapes].sort((a, b) => b[1] - a[1]))
      console.log(`  ${(n / PAYMENTS).toFixed(2).padStart(6)}  ${shape}`);
  }
process.exit(0);
