// `node bench/capacity.ts`: how many payments per second the gateway creates and processes, and
// its CPU per payment, closed loop, for A/B comparisons of the hot path on a shared machine (CPU
// per payment moves far less with the machine's load than latency does). The Flutterwave
// simulator is its own process, the merchant endpoint is this one (bench/flow.ts).
//   1. Creation: CAPACITY_PAYMENTS (default 2000) payments through /v1/payments, 32 at a time.
//   2. Processing: all of them paid at the simulator at once (64 at a time), which sends each
//      webhook; timed until the merchant has every payment.succeeded (ingest, verify call,
//      transition, delivery).
// SQLite unless CAPACITY_DATABASE_URL names a PostgreSQL database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeAtSimulator, createPayment, startFlow, stopFlow, within } from './flow.ts';
import { children, processFigures } from './lib.ts';

const PAYMENTS = Number(process.env.CAPACITY_PAYMENTS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'paywarden-capacity-'));

async function pool(count: number, concurrency: number, one: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await one(next++);
    }),
  );
}

try {
  const nodeArgs =
    process.env.BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`];
  const setup = await startFlow({
    databaseUrl: process.env.CAPACITY_DATABASE_URL ?? join(dir, 'gateway.sqlite'),
    dataDir: join(dir, 'data'),
    nodeArgs,
  });
  const pid = setup.gateway.child.pid!;
  const ids: string[] = [];
  let cpu = processFigures(pid).cpuMs;
  let started = performance.now();
  await pool(PAYMENTS, 32, async () => {
    ids.push(await createPayment(setup));
  });
  const createS = (performance.now() - started) / 1000;
  const createCpuMs = processFigures(pid).cpuMs - cpu;

  cpu = processFigures(pid).cpuMs;
  started = performance.now();
  const arrivals = ids.map((id) => within(setup.merchant.arrival(id), 300_000, `payment.succeeded for ${id}`));
  // Awaited together below; a late one must not end the process as an unhandled rejection first.
  for (const arrival of arrivals) arrival.catch(() => undefined);
  await pool(ids.length, 64, async (index) => {
    await completeAtSimulator(setup, ids[index]!);
  });
  const sentS = (performance.now() - started) / 1000;
  await Promise.all(arrivals);
  const processS = (performance.now() - started) / 1000;
  const processCpuMs = processFigures(pid).cpuMs - cpu;
  await stopFlow(setup);

  console.log(
    `creation: ${(PAYMENTS / createS).toFixed(0)} payments/s, gateway CPU ${(createCpuMs / PAYMENTS).toFixed(2)} ms per payment`,
  );
  console.log(
    `processing: ${(PAYMENTS / processS).toFixed(0)} payments/s (webhooks sent in ${sentS.toFixed(1)} s, all delivered in ${processS.toFixed(1)} s), gateway CPU ${(processCpuMs / PAYMENTS).toFixed(2)} ms per payment`,
  );
} finally {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
}
