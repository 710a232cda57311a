// `npm run bench:latency` (also the second half of `npm run bench`): latency under a fixed
// arrival rate (open loop), the figure merchants feel, with the Flutterwave simulator in its own
// process so its CPU is not counted as the gateway's.
//   1. Payment creation at BENCH_CREATE_RATE/s (default 200) through the gateway, then the same
//      bodies the gateway sends straight to the simulator: the gateway's added latency at p50/p99.
//   2. End to end at BENCH_RATE payments/s (default 500): from the simulator being told the
//      customer paid (it sends the signed webhook at once) to the merchant endpoint receiving
//      payment.succeeded (ingest, verification call to the simulator, transition, delivery).
// Each phase lasts BENCH_LATENCY_S seconds (default 10). SQLite always; PostgreSQL too when
// reachable unless BENCH_LATENCY_POSTGRES=0. The driver is this Node process; its CPU per
// second of driving is printed, so its share of the machine is known.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toStandardPaymentBody } from '../src/providers/flutterwave/transformers.ts';
import { newId } from '../src/ids.ts';
import { completeAtSimulator, createPayment, startFlow, stopFlow, within, type FlowSetup } from './flow.ts';
import { children, ms, openLoop, postgresReachable, quantile } from './lib.ts';

const RATE = Number(process.env.BENCH_RATE ?? 500);
const CREATE_RATE = Number(process.env.BENCH_CREATE_RATE ?? 200);
const DURATION_S = Number(process.env.BENCH_LATENCY_S ?? 10);
const POSTGRES_URL = process.env.PAYWARDEN_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const E2E_P99_TARGET_MS = 50;

interface Phase {
  name: string;
  rate: number;
  p50: number;
  p99: number;
  failed: number;
  driverCpuPct: number;
  lagMs: number;
}

async function timed(name: string, rate: number, count: number, one: (index: number) => Promise<void>): Promise<Phase> {
  const latencies: number[] = [];
  let failed = 0;
  let firstError = '';
  const run = await openLoop(rate, count, async (index, intended) => {
    try {
      await one(index);
      latencies.push(performance.now() - intended);
    } catch (error) {
      failed += 1;
      firstError ||= error instanceof Error ? error.message : String(error);
    }
  });
  if (firstError !== '') console.log(`  ${name}: ${failed} failed, first: ${firstError}`);
  return {
    name,
    rate,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    failed,
    driverCpuPct: (100 * run.cpuMs) / run.wallMs,
    lagMs: run.lagMs,
  };
}

async function measure(label: string, setup: FlowSetup): Promise<Phase[]> {
  const phases: Phase[] = [];
  const createCount = CREATE_RATE * DURATION_S;
  const e2eCount = RATE * DURATION_S;
  const ids: string[] = [];
  phases.push(
    await timed(`${label}: payment create through the gateway`, CREATE_RATE, createCount, async () => {
      ids.push(await createPayment(setup));
    }),
  );
  const direct = Array.from({ length: createCount }, () =>
    JSON.stringify(
      toStandardPaymentBody({
        paymentId: newId('pay'),
        amountMinor: 1000,
        currency: 'NGN',
        customer: { email: 'b@example.com', name: null, phone: null },
        redirectUrl: 'https://m.example/r',
        description: null,
        merchantReference: `direct-${Math.random()}`,
        expiresAt: Date.now() + 3_600_000,
      }),
    ),
  );
  phases.push(
    await timed(`${label}: payment create at the simulator directly`, CREATE_RATE, createCount, async (index) => {
      const answer = await setup.simulatorPool.request({
        method: 'POST',
        path: '/v3/payments',
        headers: { authorization: `Bearer ${setup.secretKey}`, 'content-type': 'application/json' },
        body: direct[index]!,
      });
      await answer.body.text();
      if (answer.statusCode !== 200) throw new Error(`simulator answered ${answer.statusCode}`);
    }),
  );
  // Enough open payments for the end-to-end phase, created before it starts (not measured).
  while (ids.length < e2eCount) {
    await Promise.all(
      Array.from({ length: Math.min(32, e2eCount - ids.length) }, async () => ids.push(await createPayment(setup))),
    );
  }
  phases.push(
    await timed(`${label}: simulator webhook → merchant gets payment.succeeded`, RATE, e2eCount, async (index) => {
      const id = ids[index]!;
      const arrived = setup.merchant.arrival(id);
      await completeAtSimulator(setup, id);
      await within(arrived, 30_000, `payment.succeeded for ${id}`);
    }),
  );
  return phases;
}

const dir = mkdtempSync(join(tmpdir(), 'paywarden-latency-'));
const results: Phase[] = [];
try {
  // BENCH_CPU_PROF=<dir>: the gateway writes a CPU profile there when it stops.
  const nodeArgs =
    process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`];
  const sqlite = await startFlow({
    databaseUrl: join(dir, 'gateway.sqlite'),
    dataDir: join(dir, 'sqlite-data'),
    nodeArgs,
  });
  results.push(...(await measure('SQLite', sqlite)));
  await stopFlow(sqlite);
  if (
    process.env.BENCH_LATENCY_POSTGRES !== '0' &&
    (await postgresReachable(POSTGRES_URL, 'paywarden_bench_latency'))
  ) {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', '-c search_path=paywarden_bench_latency');
    const postgres = await startFlow({ databaseUrl: url.toString(), dataDir: join(dir, 'pg-data'), nodeArgs });
    results.push(...(await measure('PostgreSQL', postgres)));
    await stopFlow(postgres);
  } else console.log('PostgreSQL not reachable (or BENCH_LATENCY_POSTGRES=0); its figures are skipped.');
} finally {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\nOpen loop, ${DURATION_S} s per phase, Node ${process.version}\n`);
console.log('| phase | arrivals/s | p50 ms | p99 ms | failed | driver CPU | driver worst lag ms |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of results)
  console.log(
    `| ${r.name} | ${r.rate} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.failed} | ${r.driverCpuPct.toFixed(0)}% of a core | ${r.lagMs.toFixed(1)} |`,
  );
console.log('');
for (const label of ['SQLite', 'PostgreSQL']) {
  const gateway = results.find((r) => r.name === `${label}: payment create through the gateway`);
  const direct = results.find((r) => r.name === `${label}: payment create at the simulator directly`);
  if (gateway !== undefined && direct !== undefined)
    console.log(
      `${label} payment creation at ${CREATE_RATE}/s, the gateway's added latency over the simulator alone: p50 ${ms(gateway.p50 - direct.p50)} ms, p99 ${ms(gateway.p99 - direct.p99)} ms (reported, no target)`,
    );
}
const e2e = results.find((r) => r.name.startsWith('SQLite: simulator webhook'));
if (e2e !== undefined)
  console.log(
    `SQLite end to end at ${RATE}/s (target p99 < ${E2E_P99_TARGET_MS} ms, none failed): p50 ${ms(e2e.p50)} ms, p99 ${ms(e2e.p99)} ms, ${e2e.failed} failed: ${RATE >= 500 && e2e.p99 < E2E_P99_TARGET_MS && e2e.failed === 0 ? 'met' : 'NOT met'}`,
  );
