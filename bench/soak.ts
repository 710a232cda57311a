// `npm run soak`: steady traffic for a long time, reporting the gateway's memory and latency at
// intervals, failing on growth. At SOAK_RATE payments per second (default 20, open loop), each
// payment is created through /v1/payments, paid at the Flutterwave simulator (its own process),
// which sends the signed charge.completed webhook (every fourth one a second time, a duplicate the
// gateway must store once and not act on), the gateway verifies with the simulator and delivers
// payment.succeeded to the merchant endpoint here.
//   SOAK_MINUTES (default 60), SOAK_INTERVAL_S (default 300), SOAK_RATE, SOAK_DATABASE_URL
//   (default a new SQLite file), SOAK_OUT (a file that gets each interval as one JSON line).
//
// Each row also breaks the gateway's memory down, read from outside its process: /proc/<pid>
// (RSS as anonymous and file-backed pages; glibc's main arena and thread arenas from smaps), and
// each thread's process.memoryUsage() written by bench/soak-probe.ts, which the soak preloads into
// its gateway with --import (the gateway has no such surface of its own), for the main thread and
// the SQLite thread (a V8 heap of its own, outside /metrics), and SQLite's file and WAL sizes.
//
// Fails (exit 1) when, after the run and a 60 s drain:
//   - any request failed or any payment's payment.succeeded never arrived, or jobs are left;
//   - memory grew: the heap floor (lowest heap used sampled in an interval, i.e. after the
//     collector ran; main thread plus SQLite thread) of the last interval is above the first
//     interval's by more than 20% and 32 MiB, or the resident set (median of the interval) by
//     more than 25% and 64 MiB above that of the first interval that began with the SQLite file
//     larger than the thread's page cache bound (cache_size, 64 MiB): the page cache is malloc'd
//     as pages are read and fills to that bound by design, which is not growth (bench/README.md,
//     "Soak"). On PostgreSQL RSS is compared from the first interval;
//   - latency grew: the last interval's end-to-end p99 is above twice the first interval's and
//     more than 50 ms above it.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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

/** The gateway's memory at one moment, in bytes, read from outside its process. */
interface MemorySample {
  rss: number;
  /** /proc/<pid>/status: anonymous pages, file-backed pages (code, mapped files), shared memory. */
  anon: number;
  file: number;
  shmem: number;
  /** From /proc/<pid>/smaps: glibc's main arena (the brk [heap]) and its thread arenas (64 MiB
   * aligned heaps, the SQLite thread's and libuv's), resident; `arenas` counts the latter. */
  mallocMain: number;
  mallocArenas: number;
  arenas: number;
  /** Resident V8 heap pages (256 KiB anonymous mappings; Node is built without pointer
   * compression, so V8's pages are mapped one by one): at most the heap totals. */
  v8Pages: number;
  /** From the probe (bench/soak-probe.ts) in the gateway: each thread's process.memoryUsage(). */
  heapUsed: number;
  heapTotal: number;
  /** The main thread's new space (young generation), committed: part of heapTotal. */
  newSpace: number;
  external: number;
  arrayBuffers: number;
  threadHeapUsed: number;
  threadHeapTotal: number;
  /** SQLite's files (its page cache is malloc'd, bounded by cache_size and by the file). */
  dbFile: number;
  walFile: number;
}

interface Interval {
  endMinute: number;
  /** The SQLite file's size when the interval began (NaN on PostgreSQL). */
  dbFileAtStartMiB: number;
  payments: number;
  failed: number;
  createP50: number;
  createP99: number;
  e2eP50: number;
  e2eP99: number;
  rssMiB: number;
  heapFloorMiB: number;
  heapMaxMiB: number;
  /** Medians of the interval's samples, MiB (see MemorySample). */
  anonMiB: number;
  fileMiB: number;
  shmemMiB: number;
  mallocMainMiB: number;
  mallocArenasMiB: number;
  arenas: number;
  v8PagesMiB: number;
  heapTotalMiB: number;
  newSpaceMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  threadHeapFloorMiB: number;
  threadHeapTotalMiB: number;
  dbFileMiB: number;
  walFileMiB: number;
  eventLoopP99Ms: number;
  backlog: number;
  gatewayCpuPct: number;
  /** The machine's 1-minute load average at the interval's end. */
  load: number;
}

const ARENA_BYTES = 64 * MiB;
const V8_PAGE_BYTES = 256 * 1024;

/** The SQLite thread's page cache bound, as src/db/sqlite-thread/thread.ts sets it (cache_size:
 * negative is KiB, positive is pages of 4 KiB). The cache is malloc'd as pages are read, so RSS
 * rises by up to this much until the database file is larger than it. */
function pageCacheBound(): number {
  const source = readFileSync(new URL('../src/db/sqlite-thread/thread.ts', import.meta.url), 'utf8');
  const size = /cache_size = (-?\d+)/.exec(source);
  if (size === null) throw new Error('bench/soak.ts: no cache_size pragma found in src/db/sqlite-thread/thread.ts');
  const value = Number(size[1]);
  return value < 0 ? -value * 1024 : value * 4096;
}
const CACHE_BOUND = pageCacheBound();

/** Resident bytes of glibc's main arena and of its thread arenas, from /proc/<pid>/smaps. A thread
 * arena's heap is a 64 MiB-aligned anonymous mapping of 64 MiB, its used part read-write and the
 * rest reserved (---p); the main arena is the mapping named [heap]. */
function residentFigures(pid: number): { main: number; arenas: number; count: number; v8Pages: number } {
  const maps: Array<{ start: number; end: number; perms: string; name: string; rss: number }> = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header !== null)
      maps.push({
        start: Number.parseInt(header[1]!, 16),
        end: Number.parseInt(header[2]!, 16),
        perms: header[3]!,
        name: header[4]!,
        rss: 0,
      });
    else if (line.startsWith('Rss:')) maps[maps.length - 1]!.rss = Number(/(\d+)/.exec(line)![1]) * 1024;
  }
  let main = 0;
  let arenas = 0;
  let count = 0;
  let v8Pages = 0;
  maps.forEach((map, i) => {
    if (map.name === '[heap]') main += map.rss;
    if (map.name === '' && map.perms === 'rw-p' && map.end - map.start === V8_PAGE_BYTES) v8Pages += map.rss;
    if (map.name !== '' || map.perms !== 'rw-p' || map.start % ARENA_BYTES !== 0) return;
    const next = maps[i + 1];
    const reserved = next !== undefined && next.start === map.end && next.perms === '---p' && next.name === '';
    if ((reserved ? next.end : map.end) - map.start !== ARENA_BYTES) return;
    arenas += map.rss;
    count += 1;
  });
  return { main, arenas, count, v8Pages };
}

const probeDir = join(dir, 'probe');
mkdirSync(probeDir);
const probe = (file: string) => JSON.parse(readFileSync(join(probeDir, file), 'utf8')) as Record<string, number>;
const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0);

function memorySample(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  const malloc = residentFigures(pid);
  const main = probe('main.json');
  const threads = readdirSync(probeDir).filter((file) => file.startsWith('thread-') && file.endsWith('.json'));
  return {
    rss: kb('VmRSS'),
    anon: kb('RssAnon'),
    file: kb('RssFile'),
    shmem: kb('RssShmem'),
    mallocMain: malloc.main,
    mallocArenas: malloc.arenas,
    arenas: malloc.count,
    v8Pages: malloc.v8Pages,
    heapUsed: main.heapUsed!,
    heapTotal: main.heapTotal!,
    newSpace: main.newSpace ?? Number.NaN,
    external: main.external!,
    arrayBuffers: main.arrayBuffers!,
    threadHeapUsed: threads.reduce((sum, file) => sum + probe(file).heapUsed!, 0),
    threadHeapTotal: threads.reduce((sum, file) => sum + probe(file).heapTotal!, 0),
    dbFile: databaseUrl === sqlitePath ? fileSize(sqlitePath) : Number.NaN,
    walFile: databaseUrl === sqlitePath ? fileSize(`${sqlitePath}-wal`) : Number.NaN,
  };
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

const setup = await startFlow({
  databaseUrl,
  dataDir: join(dir, 'data'),
  env: { SOAK_PROBE_DIR: probeDir },
  nodeArgs: ['--import', './bench/soak-probe.ts'],
});
const pid = setup.gateway.child.pid!;
const intervals: Interval[] = [];
let create: number[] = [];
let e2e: number[] = [];
let failed = 0;
let firstError = '';
let samples: MemorySample[] = [];
let missing = 0;
let samplerErrors = 0;
let firstSamplerError = '';
/** Of the `missing` (not within 60 s), those whose payment.succeeded came later, before the end. */
let late = 0;

const fail = (error: unknown) => {
  failed += 1;
  firstError ||= error instanceof Error ? error.message : String(error);
};

/** One payment, start to finish; latencies from its intended start (open loop). */
async function onePayment(index: number, intended: number): Promise<void> {
  let arrived: Promise<number> | undefined;
  try {
    const id = await createPayment(setup);
    const created = performance.now();
    create.push(created - intended);
    arrived = setup.merchant.arrival(id);
    const paidAt = performance.now();
    const transactionId = await completeAtSimulator(setup, id);
    if (index % 4 === 0) await resendAtSimulator(setup, transactionId);
    e2e.push((await within(arrived, 60_000, `payment.succeeded for ${id}`)) - paidAt);
  } catch (error) {
    if (String(error).includes('did not happen')) {
      missing += 1;
      void arrived?.then(() => {
        late += 1;
      });
    }
    fail(error);
  }
}

const sampler = setInterval(() => {
  try {
    samples.push(memorySample(pid));
  } catch (error) {
    samplerErrors += 1;
    firstSamplerError ||= String(error);
  }
}, SAMPLE_MS);
const mib = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(0));
const median = (pick: (sample: MemorySample) => number) => quantile(samples.map(pick), 0.5) / MiB;
const floor = (pick: (sample: MemorySample) => number) => Math.min(...samples.map(pick)) / MiB;

console.log(
  `soak: ${MINUTES} min at ${RATE} payments/s on ${databaseUrl === sqlitePath ? 'SQLite' : 'PostgreSQL'}, a row every ${INTERVAL_S} s`,
);
console.log(
  '| minute | payments | failed | create p50/p99 ms | end to end p50/p99 ms | event loop p99 ms | backlog | gateway CPU | load | RSS MiB | anon / file MiB | malloc main + arenas (n) MiB | V8 pages MiB | heap floor/max, SQLite thread heap floor MiB | heap total (new space), SQLite thread heap total MiB | external (arrayBuffers) MiB | SQLite file / WAL MiB |',
);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const intervalCount = Math.max(1, Math.round((MINUTES * 60) / INTERVAL_S));
let cpuBefore = processFigures(pid).cpuMs;
let paymentsBefore = 0;
let started = 0;
for (let i = 0; i < intervalCount; i += 1) {
  const count = Math.round(RATE * INTERVAL_S);
  const wallStart = performance.now();
  const dbFileAtStartMiB = databaseUrl === sqlitePath ? fileSize(sqlitePath) / MiB : Number.NaN;
  await openLoop(RATE, count, (index, intended) => {
    started += 1;
    return onePayment(paymentsBefore + index, intended);
  });
  paymentsBefore += count;
  const cpuNow = processFigures(pid).cpuMs;
  const interval: Interval = {
    endMinute: Math.round(((i + 1) * INTERVAL_S) / 6) / 10,
    dbFileAtStartMiB,
    payments: count,
    failed,
    createP50: quantile(create, 0.5),
    createP99: quantile(create, 0.99),
    e2eP50: quantile(e2e, 0.5),
    e2eP99: quantile(e2e, 0.99),
    rssMiB: median((s) => s.rss),
    heapFloorMiB: floor((s) => s.heapUsed),
    heapMaxMiB: Math.max(...samples.map((s) => s.heapUsed)) / MiB,
    anonMiB: median((s) => s.anon),
    fileMiB: median((s) => s.file),
    shmemMiB: median((s) => s.shmem),
    mallocMainMiB: median((s) => s.mallocMain),
    mallocArenasMiB: median((s) => s.mallocArenas),
    arenas: Math.max(...samples.map((s) => s.arenas)),
    v8PagesMiB: median((s) => s.v8Pages),
    heapTotalMiB: median((s) => s.heapTotal),
    newSpaceMiB: median((s) => s.newSpace),
    externalMiB: median((s) => s.external),
    arrayBuffersMiB: median((s) => s.arrayBuffers),
    threadHeapFloorMiB: floor((s) => s.threadHeapUsed),
    threadHeapTotalMiB: median((s) => s.threadHeapTotal),
    dbFileMiB: median((s) => s.dbFile),
    walFileMiB: median((s) => s.walFile),
    eventLoopP99Ms: (await metric(setup.gateway.url, 'nodejs_eventloop_lag_p99_seconds')) * 1000,
    backlog: await backlog(),
    gatewayCpuPct: (100 * (cpuNow - cpuBefore)) / (performance.now() - wallStart),
    load: loadavg()[0]!,
  };
  cpuBefore = cpuNow;
  intervals.push(interval);
  create = [];
  e2e = [];
  samples = [];
  failed = 0;
  if (process.env.SOAK_OUT !== undefined) appendFileSync(process.env.SOAK_OUT, `${JSON.stringify(interval)}\n`);
  console.log(
    `| ${interval.endMinute} | ${interval.payments} | ${interval.failed} | ${ms(interval.createP50)} / ${ms(interval.createP99)} | ${ms(interval.e2eP50)} / ${ms(interval.e2eP99)} | ${interval.eventLoopP99Ms.toFixed(1)} | ${interval.backlog} | ${interval.gatewayCpuPct.toFixed(0)}% | ${interval.load.toFixed(1)} | ${mib(interval.rssMiB)} | ${mib(interval.anonMiB)} / ${mib(interval.fileMiB)} | ${mib(interval.mallocMainMiB)} + ${mib(interval.mallocArenasMiB)} (${interval.arenas}) | ${mib(interval.v8PagesMiB)} | ${mib(interval.heapFloorMiB)} / ${mib(interval.heapMaxMiB)}, ${mib(interval.threadHeapFloorMiB)} | ${mib(interval.heapTotalMiB)} (${mib(interval.newSpaceMiB)}), ${mib(interval.threadHeapTotalMiB)} | ${mib(interval.externalMiB)} (${mib(interval.arrayBuffersMiB)}) | ${mib(interval.dbFileMiB)} / ${mib(interval.walFileMiB)} |`,
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
  problems.push(
    `${totalFailed} payments failed (${missing} events not within 60 s, of which ${late} arrived before the end of the drain); first: ${firstError}`,
  );
if (left > 0) problems.push(`${left} jobs still due after a 60 s drain`);
if (samplerErrors > 0) problems.push(`${samplerErrors} memory samples failed; first: ${firstSamplerError}`);
const first = intervals[0]!;
const last = intervals[intervals.length - 1]!;
// RSS is compared from the first interval that began with the SQLite file past the page cache's
// bound: until then the cache fills by design (up to CACHE_BOUND, in the SQLite thread's malloc
// arena), which is not growth. On PostgreSQL, from the first interval.
const rssBaselineIndex =
  databaseUrl === sqlitePath ? intervals.findIndex((i) => i.dbFileAtStartMiB * MiB >= CACHE_BOUND) : 0;
const rssBaseline = intervals[rssBaselineIndex];
const heapFloor = (i: Interval) => i.heapFloorMiB + i.threadHeapFloorMiB;
if (intervals.length >= 2) {
  const heapGrowth = heapFloor(last) - heapFloor(first);
  if (heapGrowth > Math.max(0.2 * heapFloor(first), 32))
    problems.push(
      `heap floor (main + SQLite thread) grew ${heapGrowth.toFixed(0)} MiB (${heapFloor(first).toFixed(0)} → ${heapFloor(last).toFixed(0)})`,
    );
  if (rssBaseline === undefined || rssBaseline === last)
    problems.push(
      `RSS not judged: no interval before the last began with the SQLite file past the page cache's ${(CACHE_BOUND / MiB).toFixed(0)} MiB (run longer or at a higher SOAK_RATE)`,
    );
  else {
    const rssGrowth = last.rssMiB - rssBaseline.rssMiB;
    if (rssGrowth > Math.max(0.25 * rssBaseline.rssMiB, 64))
      problems.push(
        `RSS grew ${rssGrowth.toFixed(0)} MiB from minute ${rssBaseline.endMinute} (${rssBaseline.rssMiB.toFixed(0)} → ${last.rssMiB.toFixed(0)})`,
      );
  }
  if (last.e2eP99 > Math.max(2 * first.e2eP99, first.e2eP99 + 50))
    problems.push(`end-to-end p99 grew from ${ms(first.e2eP99)} to ${ms(last.e2eP99)} ms`);
} else problems.push('one interval only: nothing to compare growth against (make SOAK_INTERVAL_S smaller)');
const loads = intervals.map((i) => i.load);
console.log(
  `\nsoak (${started} payments; no failures, nothing left, heap floor +20%/32 MiB, RSS +25%/64 MiB from ${rssBaseline === undefined ? 'n/a' : `the interval ending at minute ${rssBaseline.endMinute}`}, p99 2x/+50 ms; load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}): ${problems.length === 0 ? 'passed' : `FAILED: ${problems.join('; ')}`}`,
);
process.exit(problems.length === 0 ? 0 : 1);
