// `paywarden audit ...` as an operator types it: verify passes on a fresh gateway database with a
// signed checkpoint, then fails (exit 1) naming the row after a direct edit of the SQLite file.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'paywarden-audit-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { PAYWARDEN_DATA_DIR: join(dir, 'data') };
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['src/main.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

test('audit checkpoint, verify, public-key and archive from the command line; a tampered row is named', () => {
  assert.equal(cli('keys', 'create', '--name', 'audit-cli').status, 0, 'writes an audited row');
  const checkpoint = cli('audit', 'checkpoint');
  assert.equal(checkpoint.status, 0, checkpoint.stderr);
  assert.match(checkpoint.stdout, /1 checkpoint signed/);
  const good = cli('audit', 'verify');
  assert.equal(good.status, 0, good.stderr);
  // `checkpoint` sealed the row into the test mode's chain before signing its head.
  assert.match(good.stdout, /test: ok, 1 rows checked up to row 1, 1 checkpoints/);
  assert.match(good.stdout, /The audit log verifies\./);
  assert.match(cli('audit', 'public-key').stdout, /^ask_[0-9a-f]{16}\t[A-Za-z0-9+/]{43}=\n$/);
  assert.match(cli('audit', 'archive').stdout, /Nothing to archive/);
  assert.match(cli('audit', 'seal').stdout, /^0 audit rows sealed\.\n$/);

  const sqlite = new Database(join(dir, 'data', 'paywarden.sqlite'));
  sqlite.prepare("update audit_log set action = 'api_key.forged' where chain = 'test' and seq = 1").run();
  sqlite.close();
  const bad = cli('audit', 'verify');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /FIRST BAD in test: changed at row 1: row 1 \(aud_[0-9A-Za-z]{22}\) was changed/);
});
