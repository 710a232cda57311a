// `npm run soak`: steady traffic for a long time, reporting the gateway's memory and latency at
// intervals, failing on growth. At SOAK_RATE payments per second (default 20, open loop), each
// payment is created through /v1/payments, paid at the Flutterwave simulator (its own process),
// which sends the signed charge.completed webhook (every fourth one a second time, a duplicate the
// gateway must store once and not act on), the gateway verifies with the simulator and delivers
// payment.succeeded to the merchant endpoint here.
//   SOAK_MINUTES (default 60), SOAK_INTERVAL_S (default 300), SOAK_RATE, SOAK_DATABASE_URL
//   (default a new SQLite file), SOAK_OUT (a file that gets each interval as one JSON line).
//
// Fails (exit 1) when, after the run and a 60 s drain:
//   - any request failed or any payment's payment.succeeded never arrived, or jobs are left;
//   - memory grew: the heap floor (lowest heap used sampled in an interval, i.e. after the
//     collector ran) of the last interval is above the first interval's by more than 20% and
//     32 MiB, or the resident set (median of the interval) by more than 25% and 64 MiB. The first
//     interval is the baseline, not the start: caches, JIT and SQLite's page cache fill then;
//   - latency grew: the last interval's end-to-end p99 is above twice the first interval's and
//     more than 50 ms above it.
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { completeAtSimulator, createPayment, resendAtSimulator, startFlow, stopFlow, within } from './flow.ts';
import { children, metric, ms, openLoop, processFigures, quantile, sleep } from './lib.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const INTERVAL_S = Number(process.env.SOAK_INTERVAL_S ?? 300);
const RATE = Number(process.env.SOAK_RATE ?? 20);
const SAMPLE_MS = 5_000;
const MiB = 1024 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'paywarden-soak-'));
const sqlitePath = join(dir, 'gateway.sqlite');
const databaseUrl = process.env.SOAK_DATABASE_URL ?? sqlitePath;

interface Interval {
  endMinute: number;
  payments: number;
  failed: number;
  createP50: number;
  createP99: number;
  e2eP50: number;
  e2eP99: number;
  rssMiB: number;
  heapFloorMiB: number;
  heapMaxMiB: number;
  eventLoopP99Ms: number;
  backlog: number;
  gatewayCpuPct: number;
}

async function backlog(): Promise<number> {
  const sql = "select count(*) as n from jobs where status in ('queued', 'running') and run_at <= ?";
  if (databaseUrl === sqlitePath) {
    const reader = new BetterSqlite3(sqlitePath, { readonly: true });
    try {
      return (reader.prepare(sql).get(Date.now()) as { n: number }).n;
    } finally {
      reader.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>(sql.replace('?', '$1'), [Date.now()])).rows[0]!.n);
  } finally {
    await client.end();
  }
}

const setup = await startFlow({ databaseUrl, dataDir: join(dir, 'data') });
const pid = setup.gateway.child.pid!;
const intervals: Interval[] = [];
let create: number[] = [];
let e2e: number[] = [];
let failed = 0;
let firstError = '';
let samples: Array<{ rss: number; heap: number }> = [];
let missing = 0;

const fail = (error: unknown) => {
  failed += 1;
  firstError ||= error instanceof Error ? error.message : String(error);
};

/** One payment, start to finish; latencies from its intended start (open loop). */
async function onePayment(index: number, intended: number): Promise<void> {
  try {
    const id = await createPayment(setup);
    const created = performance.now();
    create.push(created - intended);
    const arrived = setup.merchant.arrival(id);
    const paidAt = performance.now();
    const transactionId = await completeAtSimulator(setup, id);
    if (index % 4 === 0) await resendAtSimulator(setup, transactionId);
    e2e.push((await within(arrived, 60_000, `payment.succeeded for ${id}`)) - paidAt);
  } catch (error) {
    if (String(error).includes('did not happen')) missing += 1;
    fail(error);
  }
}

const sampler = setInterval(() => {
  void metric(setup.gateway.url, 'nodejs_heap_size_used_bytes')
    .then((heap) => samples.push({ rss: processFigures(pid).rssBytes, heap }))
    .catch(fail);
}, SAMPLE_MS);

console.log(
  `soak: ${MINUTES} min at ${RATE} payments/s on ${databaseUrl === sqlitePath ? 'SQLite' : 'PostgreSQL'}, a row every ${INTERVAL_S} s`,
);
console.log(
  '| minute | payments | failed | create p50/p99 ms | end to end p50/p99 ms | RSS MiB | heap floor/max MiB | event loop p99 ms | backlog | gateway CPU |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const intervalCount = Math.max(1, Math.round((MINUTES * 60) / INTERVAL_S));
let cpuBefore = processFigures(pid).cpuMs;
let paymentsBefore = 0;
let started = 0;
for (let i = 0; i < intervalCount; i += 1) {
  const count = Math.round(RATE * INTERVAL_S);
  const wallStart = performance.now();
  await openLoop(RATE, count, (index, intended) => {
    started += 1;
    return onePayment(paymentsBefore + index, intended);
  });
  paymentsBefore += count;
  const cpuNow = processFigures(pid).cpuMs;
  const interval: Interval = {
    endMinute: Math.round(((i + 1) * INTERVAL_S) / 6) / 10,
    payments: count,
    failed,
    createP50: quantile(create, 0.5),
    createP99: quantile(create, 0.99),
    e2eP50: quantile(e2e, 0.5),
    e2eP99: quantile(e2e, 0.99),
    rssMiB:
      quantile(
        samples.map((s) => s.rss),
        0.5,
      ) / MiB,
    heapFloorMiB: Math.min(...samples.map((s) => s.heap)) / MiB,
    heapMaxMiB: Math.max(...samples.map((s) => s.heap)) / MiB,
    eventLoopP99Ms: (await metric(setup.gateway.url, 'nodejs_eventloop_lag_p99_seconds')) * 1000,
    backlog: await backlog(),
    gatewayCpuPct: (100 * (cpuNow - cpuBefore)) / (performance.now() - wallStart),
  };
  cpuBefore = cpuNow;
  intervals.push(interval);
  create = [];
  e2e = [];
  samples = [];
  failed = 0;
  if (process.env.SOAK_OUT !== undefined) appendFileSync(process.env.SOAK_OUT, `${JSON.stringify(interval)}\n`);
  console.log(
    `| ${interval.endMinute} | ${interval.payments} | ${interval.failed} | ${ms(interval.createP50)} / ${ms(interval.createP99)} | ${ms(interval.e2eP50)} / ${ms(interval.e2eP99)} | ${interval.rssMiB.toFixed(0)} | ${interval.heapFloorMiB.toFixed(0)} / ${interval.heapMaxMiB.toFixed(0)} | ${interval.eventLoopP99Ms.toFixed(1)} | ${interval.backlog} | ${interval.gatewayCpuPct.toFixed(0)}% |`,
  );
}
clearInterval(sampler);

// Drain: the last payments' events, then nothing may be left to do.
let left = await backlog();
for (let waited = 0; left > 0 && waited < 60_000; waited += 1000) {
  await sleep(1000);
  left = await backlog();
}
await stopFlow(setup);
for (const child of children) child.kill();
rmSync(dir, { recursive: true, force: true });

const problems: string[] = [];
const totalFailed = intervals.reduce((sum, i) => sum + i.failed, 0);
if (totalFailed > 0)
  problems.push(`${totalFailed} payments failed (${missing} events never arrived); first: ${firstError}`);
if (left > 0) problems.push(`${left} jobs still due after a 60 s drain`);
const first = intervals[0]!;
const last = intervals[intervals.length - 1]!;
if (intervals.length >= 2) {
  const heapGrowth = last.heapFloorMiB - first.heapFloorMiB;
  if (heapGrowth > Math.max(0.2 * first.heapFloorMiB, 32))
    problems.push(
      `heap floor grew ${heapGrowth.toFixed(0)} MiB (${first.heapFloorMiB.toFixed(0)} → ${last.heapFloorMiB.toFixed(0)})`,
    );
  const rssGrowth = last.rssMiB - first.rssMiB;
  if (rssGrowth > Math.max(0.25 * first.rssMiB, 64))
    problems.push(`RSS grew ${rssGrowth.toFixed(0)} MiB (${first.rssMiB.toFixed(0)} → ${last.rssMiB.toFixed(0)})`);
  if (last.e2eP99 > Math.max(2 * first.e2eP99, first.e2eP99 + 50))
    problems.push(`end-to-end p99 grew from ${ms(first.e2eP99)} to ${ms(last.e2eP99)} ms`);
} else problems.push('one interval only: nothing to compare growth against (make SOAK_INTERVAL_S smaller)');
console.log(
  `\nsoak (${started} payments; no failures, nothing left, heap floor +20%/32 MiB, RSS +25%/64 MiB, p99 2x/+50 ms): ${problems.length === 0 ? 'passed' : `FAILED: ${problems.join('; ')}`}`,
);
process.exit(problems.length === 0 ? 0 : 1);
