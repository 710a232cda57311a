// `paywarden keys-at-rest` as an operator runs it: a real child process on a SQLite deployment,
// through status, a dry run, a rotation enqueued for the gateway's job workers (status shows its
// job), and a refused retirement; and a master-key rotation run with --wait, SIGKILLed in the
// middle, then run again: it resumes and every key ends up under the new version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { openKeysAtRest } from '../privacy/keys-at-rest.ts';
import { createPrivacyService } from '../privacy/privacy-service.ts';

const run = promisify(execFile);

// Child processes each start Node and migrate: slow on a loaded machine, so a longer timeout.
test('keys-at-rest status, rotate --dry-run, rotate, retire refused', { timeout: 300_000 }, async () => {
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
    assert.match(rotated.stdout, /Started: rotation rot_\w+ to dk_\w+ is queued for the gateway's job workers/);
    const keyId = /to (dk_\w+)/.exec(rotated.stdout)?.[1] ?? '';
    const progress = await cli('status');
    assert.match(
      progress.stdout,
      /rot_\w+ {2}payloads to dk_\w+, started .*: 0 row\(s\) in 0 batch\(es\); job queued \(attempt 0/,
    );
    const refused = await cli('retire', 'payloads', keyId);
    assert.equal((refused as { code?: number }).code, 1);
    assert.match(refused.stderr, /Refused: .* still in use:\n {2}it is the current payload key/);
    const bad = await cli('rotate', 'everything');
    assert.match(bad.stderr, /Allowed choices are master, payloads, customers/);
    const noScope = await cli('rotate', 'customers');
    assert.equal((noScope as { code?: number }).code, 2);
    assert.match(noScope.stderr, /rotate customers takes a scope/);
    const customers = await cli('rotate', 'customers', 'test', '--dry-run');
    assert.match(customers.stdout, /customers \(test\): 0 new key version\(s\), 0 value\(s\) to re-seal/);
    const retireCustomers = await cli('retire', 'customers', 'live');
    assert.match(retireCustomers.stdout, /Retired 0 superseded customer key version\(s\) of live/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a master-key rotation SIGKILLed between batches resumes when run again', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-kar-kill-'));
  const oldKey = randomBytes(32).toString('base64');
  const newKey = randomBytes(32).toString('base64');
  const base = { PAYWARDEN_DATA_DIR: dir, PAYWARDEN_LOG_LEVEL: 'silent' };
  try {
    // A deployment with many customers under the old master key.
    const database = openDatabase(join(dir, 'paywarden.sqlite'));
    await migrateToLatest(database);
    const keys = await openKeysAtRest({ db: database.db, masterKey: new Secret(oldKey), clock: systemClock });
    const privacy = createPrivacyService({ keys: keys.purposeKeys, wrapper: keys.wrapper, clock: systemClock });
    for (let i = 0; i < 400; i += 1) await privacy.keyForEmail(database.db, 'test', `c${i}@example.com`);
    await database.close();

    const env = { ...process.env, ...base, PAYWARDEN_MASTER_KEY: newKey, PAYWARDEN_MASTER_KEY_PREVIOUS: oldKey };
    const child = spawn(
      process.execPath,
      ['src/main.ts', 'keys-at-rest', 'rotate', 'master', '--wait', '--batch-size', '1'],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        seen += chunk.toString('utf8');
        if (/customer_keys: 1 re-wrapped \(rot_\w+, batch 3\)/.test(seen)) child.kill('SIGKILL');
      });
      child.once('exit', () => resolve());
    });
    assert.equal(child.signalCode, 'SIGKILL', `killed mid-rotation (output: ${seen.slice(-200)})`);
    const again = await run(process.execPath, ['src/main.ts', 'keys-at-rest', 'rotate', 'master', '--wait'], { env });
    assert.match(again.stdout, /resuming rotation rot_/);
    assert.match(again.stdout, /Done: \d+ row\(s\) moved to mk:[0-9a-f]{16} \(resumed\)\./);
    const reopened = openDatabase(join(dir, 'paywarden.sqlite'));
    try {
      const atRest = await openKeysAtRest({
        db: reopened.db,
        masterKey: new Secret(newKey),
        clock: systemClock,
      });
      const left = await reopened.db
        .selectFrom('customer_keys')
        .select('id')
        .where('wrapped_by', '<>', atRest.wrapper.keyName)
        .execute();
      assert.deepEqual(left, [], 'every key under the new version');
      // Without the old key at all, every customer's key still opens.
      const opened = createPrivacyService({ keys: atRest.purposeKeys, wrapper: atRest.wrapper, clock: systemClock });
      const one = await opened.keyForEmail(reopened.db, 'test', 'c399@example.com');
      assert.equal(one.dataKey.length, 32);
      const all = await opened.customerKeys.load(
        reopened.db,
        (await reopened.db.selectFrom('customer_keys').select('id').execute()).map((r) => r.id),
      );
      assert.equal([...all.values()].filter((k) => k !== null).length, 400);
    } finally {
      await reopened.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
