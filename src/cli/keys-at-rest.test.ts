// `paywarden keys-at-rest` as an operator runs it: a real child process of bin/paywarden on a
// SQLite deployment, through status, a dry run, a rotation, and a refused retirement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('keys-at-rest status, rotate --dry-run, rotate, retire refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-kar-'));
  const env = {
    ...process.env,
    PAYWARDEN_DATA_DIR: dir,
    PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_LOG_LEVEL: 'silent',
  };
  const cli = (...args: string[]) =>
    run(process.execPath, ['src/main.ts', 'keys-at-rest', ...args], { env }).catch(
      (error: { stdout: string; stderr: string; code: number }) => error,
    );
  try {
    const status = await cli('status');
    assert.match(status.stdout, /mk:[0-9a-f]{16} {2}current {2}wraps 5 key\(s\)/, 'the five purpose keys');
    const dry = await cli('rotate', 'payloads', '--dry-run');
    assert.match(dry.stdout, /Dry run: 0 row\(s\) would change; nothing changed\./);
    const rotated = await cli('rotate', 'payloads');
    assert.match(rotated.stdout, /Not finished: 0 row\(s\) moved to dk_/);
    const keyId = /moved to (dk_\w+)/.exec(rotated.stdout)?.[1] ?? '';
    const refused = await cli('retire', 'payloads', keyId);
    assert.equal((refused as { code?: number }).code, 1);
    assert.match(refused.stderr, /Refused: .* still in use:\n {2}it is the current payload key/);
    const bad = await cli('rotate', 'everything');
    assert.match(bad.stderr, /Allowed choices are master, payloads/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
