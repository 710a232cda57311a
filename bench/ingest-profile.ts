// `node bench/ingest-profile.ts <dir>`: the gateway on SQLite under wrk's load (32 connections,
// INGEST_PROFILE_S seconds, default 8) with --cpu-prof, its profiles written to <dir> (read them
// with bench/profile-summary.ts). For comparing a hot path's CPU between commits.
// PROFILE_LOAD=webhooks (default): unique signed Flutterwave webhooks. PROFILE_LOAD=create:
// payment creations with unique references and Idempotency-Keys, on an otherwise idle gateway.
// PROFILE_POSTGRES_URL=<url>: the gateway on that PostgreSQL database (schema paywarden_profile,
// made afresh) instead of SQLite.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { children, freePort, postgresReachable, signedBenchWebhook, startGateway, startSimulator, wrk } from './lib.ts';

const [profileDir] = process.argv.slice(2);
if (profileDir === undefined) throw new Error('usage: node bench/ingest-profile.ts <profile dir>');
const DURATION_S = Number(process.env.INGEST_PROFILE_S ?? 8);
const LOAD = process.env.PROFILE_LOAD ?? 'webhooks';
if (LOAD !== 'webhooks' && LOAD !== 'create') throw new Error('PROFILE_LOAD is webhooks or create');
const dir = mkdtempSync(join(tmpdir(), 'paywarden-ingest-profile-'));
const secretHash = randomBytes(24).toString('base64url');
const simulatorKey = `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;
let id = 500_000_000;
const lines = Array.from({ length: LOAD === 'create' ? 40_000 : 150_000 }, (_, n) => {
  if (LOAD === 'create') {
    const body = JSON.stringify({
      amount: 1000,
      currency: 'NGN',
      reference: `profile-${n}-${randomUUID().slice(0, 8)}`,
      customer: { email: 'b@example.com' },
      redirect_url: 'https://m.example/r',
    });
    return `${randomUUID()}\t${body}`;
  }
  const { body, signature } = signedBenchWebhook(id++, secretHash);
  return `${signature}\t${body}`;
});
try {
  const port = await freePort();
  const simulator = await startSimulator(`http://127.0.0.1:${port}/webhooks/flutterwave`, simulatorKey, secretHash);
  const postgres = process.env.PROFILE_POSTGRES_URL;
  let databaseUrl = join(dir, 'gateway.sqlite');
  if (postgres !== undefined) {
    if (!(await postgresReachable(postgres, 'paywarden_profile'))) throw new Error(`${postgres} is not reachable`);
    const url = new URL(postgres);
    url.searchParams.set('options', '-c search_path=paywarden_profile');
    databaseUrl = url.toString();
  }
  const gateway = await startGateway({
    databaseUrl,
    dataDir: join(dir, 'data'),
    secretHash,
    port,
    simulator: { url: simulator.url, secretKey: simulatorKey },
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profileDir}`],
  });
  const late: string[] = [];
  const result = await wrk({
    name: `gateway ${LOAD}, ${postgres === undefined ? 'SQLite' : 'PostgreSQL'}`,
    url: `${gateway.url}${LOAD === 'create' ? '/v1/payments' : '/webhooks/flutterwave'}`,
    lines,
    header: LOAD === 'create' ? 'Idempotency-Key' : 'flutterwave-signature',
    ...(LOAD === 'create' ? { extraHeaders: `Authorization: Bearer ${gateway.key}` } : {}),
    connections: 32,
    durationS: DURATION_S,
    dir,
    late,
  });
  console.log(JSON.stringify(result), ...late);
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
  gateway.child.kill('SIGTERM');
  await exited;
} finally {
  for (const child of children) child.kill();
  rmSync(dir, { recursive: true, force: true });
}
