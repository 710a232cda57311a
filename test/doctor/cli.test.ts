// The commands as an operator types them: `doctor` (report, --json, exit 1 on a fail), `backup`
// (recorded, so doctor sees it) and `restore` (refuses to overwrite a database without --force).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

// Asynchronous on purpose: the gateway these commands talk to runs in this process.
function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['src/main.ts', ...args],
      { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr }),
    );
  });
}

const [sqlite] = await testDialects();

describe('paywarden doctor, backup and restore on the command line', () => {
  let gw: TestGateway;
  const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-cli-doctor-'));
  const env = { PAYWARDEN_DATA_DIR: dataDir, PAYWARDEN_LOG_LEVEL: 'silent' };
  before(async () => {
    gw = await startTestGateway(sqlite!);
  });
  after(async () => {
    await gw.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('doctor --json against a test-mode http deployment: exit 1, each result with its requirement', async () => {
    const { code, stdout } = await cli(['doctor', '--url', gw.url, '--no-env', '--json'], env);
    assert.equal(code, 1);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      results: Array<{ check: string; requirement: string; status: string }>;
    };
    assert.equal(report.ok, false);
    assert.equal(report.results.find((r) => r.check === 'tls')?.status, 'fail');
    assert.equal(report.results.find((r) => r.check === 'http.methods')?.status, 'pass');
  });

  test('doctor prints one line per check with its ID and what to do', async () => {
    const { code, stdout } = await cli(['doctor', '--url', gw.url, '--no-env'], env);
    assert.equal(code, 1);
    assert.match(stdout, /^FAIL {2}NET-1 .* tls .*plain http/m);
    assert.match(stdout, /-> serve TLS/);
    assert.match(stdout, /\d+ fail, \d+ warn, \d+ pass, \d+ skipped/);
  });

  test('backup is verified and recorded; doctor then finds it; restore needs --force', async () => {
    const before = await cli(['doctor', '--url', gw.url, '--json'], env);
    const backupBefore = (
      JSON.parse(before.stdout) as { results: Array<{ check: string; status: string }> }
    ).results.find((r) => r.check === 'backup.recent');
    assert.equal(backupBefore?.status, 'fail');

    const dir = join(dataDir, 'backups');
    const backup = await cli(['backup', '--dir', dir], env);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /verified: .*payments \d+/);

    const afterwards = await cli(['doctor', '--url', gw.url, '--json'], env);
    const backupAfter = (
      JSON.parse(afterwards.stdout) as { results: Array<{ check: string; status: string }> }
    ).results.find((r) => r.check === 'backup.recent');
    assert.equal(backupAfter?.status, 'pass');

    const [file] = readdirSync(dir);
    assert.ok(file !== undefined);
    const refused = await cli(['restore', join(dir, file)], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--force/);
    const restored = await cli(['restore', join(dir, file), '--force'], env);
    assert.equal(restored.code, 0, restored.stderr);
  });
});
