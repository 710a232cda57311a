// What the bench scripts share: starting servers in their own processes, wrk runs from a
// pre-signed pool (bench/wrk-pool.lua), an open-loop driver, percentiles and process figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createHmac, randomUUID } from 'node:crypto';
import pg from 'pg';
import { newId } from '../src/ids.ts';

export const children: ChildProcess[] = [];

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });

/** Spawns `node script` and resolves once its stdout matches `ready` (group 1 is returned). */
export function spawnUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let out = '';
    let done = false;
    child.stdout!.on('data', (chunk: Buffer) => {
      if (done) return;
      out += chunk.toString();
      const match = ready.exec(out);
      if (match !== null) {
        done = true;
        resolve({ child, match: match[1]! });
      }
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

/** A bench server that prints `READY <port>`. */
export async function startProcess(script: string, env: Record<string, string>) {
  const { child, match } = await spawnUntil([script], env, /READY (\d+)/);
  return { port: Number(match), child };
}

export interface GatewayOptions {
  readonly databaseUrl: string;
  readonly dataDir: string;
  readonly secretHash: string;
  /** A Flutterwave simulator in its own process; without it the gateway starts one in process. */
  readonly simulator?: { url: string; secretKey: string };
  readonly env?: Record<string, string>;
  /** Chosen beforehand when the simulator must know where to send its webhooks. */
  readonly port?: number;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: string[];
}

/** The gateway with its default configuration, workers included; limits raised out of the way. */
export async function startGateway(options: GatewayOptions) {
  const port = options.port ?? (await freePort());
  const env: Record<string, string> = {
    PAYWARDEN_DATA_DIR: options.dataDir,
    PAYWARDEN_DATABASE_URL: options.databaseUrl,
    PAYWARDEN_PORT: String(port),
    PAYWARDEN_SIMULATOR_PORT: '0',
    PAYWARDEN_LOG_LEVEL: 'error',
    FLUTTERWAVE_TEST_SECRET_HASH: options.secretHash,
    PAYWARDEN_API_RATE_LIMIT_PER_MINUTE: '100000000',
    PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '100000000',
    ...(options.simulator === undefined
      ? {}
      : { FLUTTERWAVE_TEST_BASE_URL: options.simulator.url, FLUTTERWAVE_TEST_SECRET_KEY: options.simulator.secretKey }),
    ...options.env,
  };
  const { child, match } = await spawnUntil(
    [...(options.nodeArgs ?? []), 'src/main.ts', 'start'],
    env,
    /(sk_test_[0-9A-Za-z]{48})/,
  );
  return { port, key: match, child, url: `http://127.0.0.1:${port}` };
}

/** `paywarden simulate flutterwave` in its own process, sending its webhooks to `webhookUrl`. */
export async function startSimulator(webhookUrl: string, secretKey: string, secretHash: string) {
  const port = await freePort();
  const { child, match } = await spawnUntil(
    [
      'src/main.ts',
      'simulate',
      'flutterwave',
      '--port',
      String(port),
      '--webhook-url',
      webhookUrl,
      '--credential',
      `secretKey=${secretKey}`,
      `secretHash=${secretHash}`,
    ],
    {},
    /simulator on (http:\/\/\S+)/,
  );
  return { url: match, child };
}

export interface WrkResult {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

/**
 * Drives `url` with wrk (one thread, `connections`, `durationS`): `lines` are the requests, built
 * beforehand as "<value of header>\t<body>", handed out one per request by bench/wrk-pool.lua, so
 * nothing is signed while measuring. wrk, not a Node load generator: on a 2-core machine
 * autocannon took most of a core from the server under test (hello-world 10.4k req/s under it,
 * 38.9k under wrk).
 */
export async function wrk(options: {
  name: string;
  url: string;
  lines: string[];
  header: string;
  extraHeaders?: string;
  connections: number;
  durationS: number;
  dir: string;
  late: string[];
}): Promise<WrkResult> {
  const pool = join(options.dir, `pool-${randomUUID()}.txt`);
  writeFileSync(pool, `${options.lines.join('\n')}\n`);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      'wrk',
      [
        '-t1',
        `-c${options.connections}`,
        `-d${options.durationS}s`,
        '--timeout',
        '10s',
        '-s',
        'bench/wrk-pool.lua',
        options.url,
      ],
      {
        env: { ...process.env, POOL: pool, HEADER: options.header, EXTRA_HEADERS: options.extraHeaders ?? '' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', () => resolve(out));
  });
  rmSync(pool, { force: true });
  const line = /WRK (\{.*\})/.exec(output);
  if (line === null) throw new Error(`wrk gave no figures for ${options.name}:\n${output}`);
  const figures = JSON.parse(line[1]!) as Record<string, number>;
  const sent = figures.requests!;
  if (sent > options.lines.length)
    options.late.push(`${options.name}: ${sent - options.lines.length} requests reused the pool (it ran out)`);
  return {
    name: options.name,
    rps: sent / (figures.duration_us! / 1e6),
    p50: Math.round(figures.p50_us! / 100) / 10,
    p99: Math.round(figures.p99_us! / 100) / 10,
    errors: figures.errors!,
    non2xx: figures.non2xx!,
  };
}

/** The q-quantile (0..1) of unsorted values, nearest rank; NaN when there are none. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(1));

/**
 * Open loop: starts `fire(i)` at `startMs + i * 1000 / ratePerS` (performance.now() clock) for
 * `count` arrivals, whatever the answers, so a slow server meets the same arrival rate (wrk and
 * autocannon wait for an answer before the next request on a connection, and so understate
 * latency under load: coordinated omission). Each `fire` gets its intended start time, from which
 * its latency is measured. Resolves when every arrival has been started and settled; `lagMs` is
 * the driver's worst lateness starting one.
 */
export async function openLoop(
  ratePerS: number,
  count: number,
  fire: (index: number, intendedMs: number) => Promise<void>,
): Promise<{ lagMs: number; cpuMs: number; wallMs: number }> {
  const cpuBefore = process.cpuUsage();
  const startMs = performance.now() + 20;
  const pending: Promise<void>[] = [];
  let lagMs = 0;
  let next = 0;
  while (next < count) {
    const now = performance.now();
    while (next < count && startMs + (next * 1000) / ratePerS <= now) {
      const intended = startMs + (next * 1000) / ratePerS;
      lagMs = Math.max(lagMs, now - intended);
      pending.push(fire(next, intended));
      next += 1;
    }
    if (next < count) await sleep(Math.max(0, startMs + (next * 1000) / ratePerS - performance.now()));
  }
  const wallMs = performance.now() - startMs;
  await Promise.allSettled(pending);
  const cpu = process.cpuUsage(cpuBefore);
  return { lagMs, cpuMs: (cpu.user + cpu.system) / 1000, wallMs };
}

/** A process's resident set (bytes) and CPU time so far (ms), from /proc (Linux). */
export function processFigures(pid: number): { rssBytes: number; cpuMs: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, 12 and 13 after the command name.
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssBytes: rssKb * 1024, cpuMs: ticks * 10 };
}

/** One gauge from the gateway's /metrics (prom-client default metrics), or NaN. */
export async function metric(gatewayUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  const line = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return line === null ? Number.NaN : Number(line[1]);
}

/** Whether PostgreSQL answers at `url`; when it does, `schema` is dropped and made again, empty. */
export async function postgresReachable(url: string, schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    const name = client.escapeIdentifier(schema);
    await client.query(`drop schema if exists ${name} cascade; create schema ${name}`);
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A unique Flutterwave `charge.completed` webhook for transaction `id`, signed as the simulator
 * signs it (base64 HMAC-SHA256 of the body with the secret hash): the ingest load of the benches.
 */
export function signedBenchWebhook(id: number, secretHash: string): { body: string; signature: string } {
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
