// `npm run bench`: drives unique, correctly signed Flutterwave webhooks at 32 connections for 10 s
// against (1) a hello-world on the same stack, (2) the hand-written baseline, (3) the gateway on
// SQLite with full durability, and (4) the gateway on PostgreSQL when reachable; then payment
// creation with Idempotency-Key. Each server runs in its own process; wrk (bench/wrk-pool.lua) drives it.
// The webhooks are built and signed before each run: autocannon shares the machine with the
// server, and signing and serialising every request while measuring took CPU from the server.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID, createHmac } from 'node:crypto';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { newId } from '../src/ids.ts';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const PAYMENT_POOL = 40_000;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const POSTGRES_URL = process.env.PAYWARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const secretHash = randomBytes(24).toString('base64url');
const children: ChildProcess[] = [];

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  processedPerS?: number;
  backlog?: number;
}

function startProcess(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ port: number; child: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const ready = /READY (\d+)/.exec(out);
      if (ready !== null) resolve({ port: Number(ready[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

async function startGateway(databaseUrl: string, dataDir: string): Promise<{ port: number; key: string }> {
  const port = 18_000 + Math.floor(Math.random() * 10_000);
  const env = {
    PAYWARDEN_DATA_DIR: dataDir,
    PAYWARDEN_DATABASE_URL: databaseUrl,
    PAYWARDEN_PORT: String(port),
    PAYWARDEN_SIMULATOR_PORT: '0',
    PAYWARDEN_LOG_LEVEL: 'error',
    FLUTTERWAVE_TEST_SECRET_HASH: secretHash,
    PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '100000000',
    PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '100000000',
  };
  const child = spawn(process.execPath, ['src/main.ts', 'start'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const key = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /(sk_test_[0-9A-Za-z]{48})/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return { port, key };
}

// Like real traffic: Flutterwave's transaction ids increase, and tx_ref is one of our payment ids
// (time-ordered). Every webhook is unique and correctly signed.
let nextTransactionId = 400_000_000 + Math.floor(Math.random() * 1e8);
interface SignedWebhook {
  body: string;
  signature: string;
}
function signWebhook(): SignedWebhook {
  const id = nextTransactionId++;
  const body = JSON.stringify({
    event: 'charge.completed',
    data: {
      id,
      tx_ref: newId('pay'),
      flw_ref: `FLW-BENCH-${id}`,
      amount: 100,
      currency: 'NGN',
      charged_amount: 100,
      status: 'successful',
      payment_type: 'card',
      created_at: new Date().toISOString(),
      customer: { id: 1, email: 'bench@example.com' },
    },
    'event.type': 'CARD_TRANSACTION',
  });
  return { body, signature: createHmac('sha256', secretHash).update(body).digest('base64') };
}

const asRequest = (webhook: SignedWebhook) => ({
  body: webhook.body,
  headers: { 'content-type': 'application/json', 'flutterwave-signature': webhook.signature },
});

/**
 * Drives `url` with wrk (one thread, CONNECTIONS connections, DURATION_S): the requests are built
 * here beforehand (`count` of them, from `setup`) and written to a file that bench/wrk-pool.lua
 * hands out one per request. wrk, not a Node load generator: on this 2-core machine autocannon took
 * most of a core from the server under test (hello-world 10.4k req/s under it, 38.9k under wrk).
 */
async function drive(
  name: string,
  url: string,
  setup: () => { body?: string; headers: Record<string, string> },
  count: number,
): Promise<Result> {
  const lines: string[] = [];
  let header = 'flutterwave-signature';
  let extra = '';
  for (let i = 0; i < count; i += 1) {
    const request = setup();
    if (request.headers['idempotency-key'] !== undefined) {
      header = 'Idempotency-Key';
      extra = `Authorization: ${request.headers.authorization}`;
      lines.push(`${request.headers['idempotency-key']}\t${request.body}`);
    } else lines.push(`${request.headers['flutterwave-signature']}\t${request.body}`);
  }
  const pool = join(dir, `pool-${randomUUID()}.txt`);
  writeFileSync(pool, `${lines.join('\n')}\n`);
  const output = await new Promise<string>((resolve, reject) => {
    const wrk = spawn(
      'wrk',
      ['-t1', `-c${CONNECTIONS}`, `-d${DURATION_S}s`, '--timeout', '10s', '-s', 'bench/wrk-pool.lua', url],
      {
        env: { ...process.env, POOL: pool, HEADER: header, EXTRA_HEADERS: extra },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    wrk.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    wrk.once('error', reject);
    wrk.once('exit', () => resolve(out));
  });
  rmSync(pool, { force: true });
  const line = /WRK (\{.*\})/.exec(output);
  if (line === null) throw new Error(`wrk gave no figures for ${name}:\n${output}`);
  const figures = JSON.parse(line[1]!) as Record<string, number>;
  const sent = figures.requests!;
  if (sent > count) late.push(`${name}: ${sent - count} requests reused the pool of ${count} (it ran out)`);
  return {
    name,
    rps: sent / (figures.duration_us! / 1e6),
    p50: Math.round(figures.p50_us! / 100) / 10,
    p99: Math.round(figures.p99_us! / 100) / 10,
    errors: figures.errors!,
    non2xx: figures.non2xx!,
  };
}

async function postgresReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('drop schema if exists paywarden_bench cascade; create schema paywarden_bench');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Webhooks the gateway had processed (checked with the provider, or found not to need it) by the
 * end of the run, and the jobs still waiting: ingest that outruns processing only builds a backlog. */
interface Progress {
  processed: number;
  backlog: number;
}
function sqliteProgress(path: string): Progress {
  const reader = new BetterSqlite3(path, { readonly: true });
  try {
    const count = (sql: string) => (reader.prepare(sql).get() as { n: number }).n;
    return {
      processed: count("select count(*) as n from provider_webhooks where status <> 'received'"),
      backlog: count("select count(*) as n from jobs where status in ('queued', 'running')"),
    };
  } finally {
    reader.close();
  }
}
async function postgresProgress(): Promise<Progress> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const count = async (sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]!.n);
    return {
      processed: await count("select count(*) as n from paywarden_bench.provider_webhooks where status <> 'received'"),
      backlog: await count("select count(*) as n from paywarden_bench.jobs where status in ('queued', 'running')"),
    };
  } finally {
    await client.end();
  }
}
const withProgress = (result: Result, progress: Progress): Result => ({
  ...result,
  processedPerS: progress.processed / DURATION_S,
  backlog: progress.backlog,
});

/** A payment creation with a unique reference and Idempotency-Key. */
let nextReference = 0;
const paymentCreation = (key: string) => ({
  body: JSON.stringify({
    amount: 1000,
    currency: 'NGN',
    reference: `bench-${nextReference++}-${randomUUID().slice(0, 8)}`,
    customer: { email: 'b@example.com' },
    redirect_url: 'https://m.example/r',
  }),
  headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'idempotency-key': randomUUID() },
});

const dir = mkdtempSync(join(tmpdir(), 'paywarden-bench-'));
const results: Result[] = [];
const late: string[] = [];
try {
  // The ceiling answers without looking at the body, so a smaller pool serves it over and over.
  const ceilingPool = Array.from({ length: 20_000 }, signWebhook);
  let ceilingNext = 0;
  const hello = await startProcess('bench/hello-world.ts', [], {});
  results.push(
    await drive(
      'hello-world (same stack)',
      `http://127.0.0.1:${hello.port}/hello`,
      () => asRequest(ceilingPool[ceilingNext++ % ceilingPool.length]!),
      ceilingPool.length,
    ),
  );
  hello.child.kill();
  // Nothing below can be faster than the ceiling: a pool 10% larger than its run serves every run.
  const poolSize = Math.ceil(results[0]!.rps * DURATION_S * 1.1);
  const webhooksFor = async (name: string, url: string, progress?: () => Promise<Progress>) => {
    const result = await drive(name, url, () => asRequest(signWebhook()), poolSize);
    results.push(progress === undefined ? result : withProgress(result, await progress()));
  };

  const plain = await startProcess('bench/plain-handler.ts', [], {
    SECRET_HASH: secretHash,
    DB_PATH: join(dir, 'plain.sqlite'),
  });
  await webhooksFor('plain handler (commit per request)', `http://127.0.0.1:${plain.port}/webhooks/flutterwave`);
  plain.child.kill();
  const postgresUp = await postgresReachable();
  if (postgresUp) {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', '-c search_path=paywarden_bench');
    const plainPg = await startProcess('bench/plain-handler-postgres.ts', [], {
      SECRET_HASH: secretHash,
      DATABASE_URL: url.toString(),
    });
    await webhooksFor(
      'plain handler on PostgreSQL (commit per request)',
      `http://127.0.0.1:${plainPg.port}/webhooks/flutterwave`,
    );
    plainPg.child.kill();
  }

  const sqlitePath = join(dir, 'gateway.sqlite');
  const sqlite = await startGateway(sqlitePath, join(dir, 'sqlite-data'));
  await webhooksFor('gateway webhooks, SQLite FULL', `http://127.0.0.1:${sqlite.port}/webhooks/flutterwave`, async () =>
    sqliteProgress(sqlitePath),
  );
  results.push(
    await drive(
      'gateway payment create, SQLite',
      `http://127.0.0.1:${sqlite.port}/v1/payments`,
      () => paymentCreation(sqlite.key),
      PAYMENT_POOL,
    ),
  );
  for (const child of children) child.kill();

  if (postgresUp && (await postgresReachable())) {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', '-c search_path=paywarden_bench');
    const postgres = await startGateway(url.toString(), join(dir, 'pg-data'));
    await webhooksFor(
      'gateway webhooks, PostgreSQL',
      `http://127.0.0.1:${postgres.port}/webhooks/flutterwave`,
      postgresProgress,
    );
    results.push(
      await drive(
        'gateway payment create, PostgreSQL',
        `http://127.0.0.1:${postgres.port}/v1/payments`,
        () => paymentCreation(postgres.key),
        PAYMENT_POOL,
      ),
    );
  } else {
    console.log('PostgreSQL not reachable; its figures are skipped.');
  }
} finally {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
}

const ceiling = results[0]?.rps ?? 1;
const plainRps = results[1]?.rps ?? 1;
console.log(`\n${CONNECTIONS} connections, ${DURATION_S} s each, Node ${process.version}\n`);
console.log(
  '| run | req/s | p50 ms | p99 ms | vs hello-world | vs plain handler | errors | non-2xx | processed/s | backlog at end |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.rps.toFixed(0)} | ${r.p50} | ${r.p99} | ${((100 * r.rps) / ceiling).toFixed(0)}% | ${(r.rps / plainRps).toFixed(1)}x | ${r.errors} | ${r.non2xx} | ${r.processedPerS?.toFixed(0) ?? ''} | ${r.backlog ?? ''} |`,
  );
}
for (const line of late) console.log(`Note: ${line}`);
const gw = results.find((r) => r.name.startsWith('gateway webhooks, SQLite'));
if (gw !== undefined)
  console.log(
    `\nSQLite webhooks (targets >= 40% of hello-world, p99 < 15 ms, backlog 0): ${((100 * gw.rps) / ceiling).toFixed(0)}%, p99 ${gw.p99} ms, backlog ${gw.backlog}: ${gw.rps >= 0.4 * ceiling && gw.p99 < 15 && gw.backlog === 0 ? 'met' : 'NOT met'}`,
  );
const plainPg = results.find((r) => r.name.startsWith('plain handler on PostgreSQL'));
const gwPg = results.find((r) => r.name.startsWith('gateway webhooks, PostgreSQL'));
if (plainPg !== undefined && gwPg !== undefined)
  console.log(
    `PostgreSQL webhooks (targets >= 3x the plain PostgreSQL handler, p99 < 30 ms): ${(gwPg.rps / plainPg.rps).toFixed(1)}x, p99 ${gwPg.p99} ms: ${gwPg.rps >= 3 * plainPg.rps && gwPg.p99 < 30 ? 'met' : 'NOT met'}`,
  );
