// Process roles and SQLite's one-writer rule, with real processes (`paywarden start`).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startGatewayProcess, type GatewayProcess } from './processes.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-roles-'));
const base = { PAYWARDEN_DATA_DIR: dataDir, PAYWARDEN_SIMULATOR_PORT: '0', PAYWARDEN_LOG_LEVEL: 'warn' };
const running: GatewayProcess[] = [];
after(async () => {
  for (const gateway of running) await gateway.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('SQLite: one gateway process per database', () => {
  test('a second process on the same SQLite file stops at once, saying why; after a SIGKILL of the first it starts', async () => {
    const first = await startGatewayProcess(base, await freePort());
    running.push(first);
    const secondPort = await freePort();
    const second = startGatewayProcess(base, secondPort);
    await assert.rejects(second, (error: Error) => {
      assert.match(error.message, /Another Paywarden process is already running on the SQLite database/);
      assert.match(error.message, /use PostgreSQL/);
      assert.doesNotMatch(error.message, /\n\s+at /, 'a message, not a stack trace');
      return true;
    });
    // The first is unharmed.
    assert.equal((await fetch(`${first.url}/healthz`)).status, 200);
    // A crash leaves no stale lock: the operating system drops it with the process.
    await first.kill('SIGKILL');
    // A port of its own: the one tried by the second may have been taken since by another test's
    // server (ports picked early and bound seconds later collide under the parallel suite).
    const third = await startGatewayProcess(base, await freePort());
    running.push(third);
    assert.equal((await fetch(`${third.url}/readyz`)).status, 200);
    await third.kill('SIGTERM');
  });
});

describe('PAYWARDEN_ROLE', () => {
  test('worker answers only health, readiness and metrics; api serves the API without workers', async () => {
    const roleDir = mkdtempSync(join(tmpdir(), 'paywarden-role-'));
    const worker = await startGatewayProcess(
      { ...base, PAYWARDEN_DATA_DIR: roleDir, PAYWARDEN_ROLE: 'worker' },
      await freePort(),
    );
    running.push(worker);
    assert.equal((await fetch(`${worker.url}/readyz`)).status, 200);
    assert.equal((await fetch(`${worker.url}/metrics`)).status, 200);
    assert.equal((await fetch(`${worker.url}/v1/payments`)).status, 404);
    assert.equal((await fetch(`${worker.url}/webhooks/flutterwave`, { method: 'POST' })).status, 404);
    await worker.kill('SIGTERM');

    const api = await startGatewayProcess(
      { ...base, PAYWARDEN_DATA_DIR: roleDir, PAYWARDEN_ROLE: 'api' },
      await freePort(),
    );
    running.push(api);
    const unauthenticated = await fetch(`${api.url}/v1/payments`);
    assert.equal(unauthenticated.status, 401);
    await api.kill('SIGTERM');
    rmSync(roleDir, { recursive: true, force: true });
  });
});
