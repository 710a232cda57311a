// doctor's audit.chain check (LOG-4) is `paywarden audit verify`: it passes on an intact log, fails
// naming the first bad row after a direct edit, and is skipped when no checkpoint key is known.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { writeAudit } from '../../src/audit/audit.ts';
import { writeCheckpoints } from '../../src/audit/checkpoints.ts';
import { checkpointSigner, keyringOf } from '../../src/audit/signing-key.ts';
import { manualClock } from '../../src/clock.ts';
import { Secret } from '../../src/crypto/secret.ts';
import { databaseChecks } from '../../src/doctor/database-checks.ts';
import { openTestDatabase, testDialects } from '../helpers/databases.ts';

const [sqlite] = await testDialects();
let database: Awaited<ReturnType<typeof openTestDatabase>>;
before(async () => {
  database = await openTestDatabase(sqlite!);
});
after(async () => database.close());

test('audit.chain: pass when intact, fail naming the row when edited, skip without a key', async () => {
  const clock = manualClock();
  const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
  for (let i = 0; i < 3; i += 1)
    await writeAudit(database.db, clock, {
      mode: 'live',
      actorType: 'system',
      actorId: null,
      action: 'x.done',
      objectType: 'x',
      objectId: 'x_doctor',
      details: { i },
    });
  await writeCheckpoints({ ...database, clock, signer }); // seals first
  const check = async (withKey: boolean) =>
    (
      await databaseChecks({
        database,
        nowMs: clock.nowMs(),
        liveEnabled: false,
        ...(withKey ? { auditKeyring: keyringOf([signer.publicKey]) } : {}),
      })
    ).find((r) => r.check === 'audit.chain')!;
  assert.deepEqual(((r) => [r.status, r.detail])(await check(true)), ['pass', '3 audit rows in 3 chains verify']);
  assert.equal((await check(false)).status, 'skip');
  await sql`update audit_log set action = 'forged' where chain = 'live' and seq = 2`.execute(database.db);
  const failed = await check(true);
  assert.equal(failed.status, 'fail');
  assert.match(failed.detail, /^live chain: changed at row 2/);
});
