// The tamper-evident audit log (LOG-4) on both databases: every kind of tampering done with direct
// SQL (changed, removed, inserted, reordered, truncated, a forged checkpoint, a row left unsealed)
// is found and the first bad row named. Writing and sealing from several processes: sealer.test.ts.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { AuditLogTable } from '../db/schema.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { auditEntry, tamperableAuditDatabase } from '../../test/helpers/audit.ts';
import { writeAudit } from './audit.ts';
import { auditRowHash, GENESIS_HASH } from './chain.ts';
import { checkpointMessage, writeCheckpoints } from './checkpoints.ts';
import { sealAuditLog } from './sealer.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog, type AuditVerifyReport } from './verify.ts';

const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
const keyring = keyringOf([signer.publicKey]);
const MINUTE_MS = 60_000;

function firstProblem(report: AuditVerifyReport) {
  assert.equal(report.ok, false, 'the tampering must be found');
  return report.problems[0]!;
}

for (const dialect of await testDialects()) {
  describe(`audit chain on ${dialect.name}`, { skip: dialect.skip }, () => {
    let cleanup: () => Promise<void>;
    let database: DatabaseHandle;
    const clock = manualClock();
    before(async () => {
      let url: string;
      ({ url, cleanup } = await dialect.create());
      database = await tamperableAuditDatabase(url);
    });
    after(async () => {
      await database.close();
      await cleanup();
    });
    const db = () => database.db;
    const seal = () => sealAuditLog(database);
    const verify = () => verifyAuditLog({ db: db(), keyring, nowMs: clock.nowMs() });
    const rowAt = (seq: number, chain = 'test') =>
      db()
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', chain)
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
    /** What an attacker who knows the documented hashing does: recompute a row's hash after editing it. */
    const rehash = async (seq: number) => {
      const row = await rowAt(seq);
      await sql`update audit_log set hash = ${auditRowHash(row)} where id = ${row.id}`.execute(db());
    };
    const setHead = async (seq: number) => {
      const row = await rowAt(seq);
      await sql`update audit_chain_heads set seq = ${seq}, hash = ${row.hash} where chain = 'test'`.execute(db());
    };

    // Six test rows about one payment, two live rows, one global; sealed; a checkpoint per chain.
    beforeEach(async () => {
      await sql`delete from audit_log`.execute(db());
      await sql`delete from audit_checkpoints`.execute(db());
      await sql`update audit_chain_heads set seq = 0, hash = ${GENESIS_HASH}`.execute(db());
      for (let i = 1; i <= 6; i += 1) {
        clock.advance(1000);
        await writeAudit(db(), clock, {
          mode: 'test',
          actorType: 'system',
          actorId: null,
          action: 'payment.transition.pending.succeeded',
          objectType: 'payment',
          objectId: 'pay_chain',
          details: { n: i },
        });
      }
      for (const mode of ['live', 'live', null] as const)
        await writeAudit(db(), clock, {
          mode,
          actorType: 'operator',
          actorId: 'op_x',
          action: 'x.done',
          objectType: 'x',
          objectId: 'x_1',
        });
      assert.equal(await writeCheckpoints({ ...database, clock, signer }), 3, 'sealed first, then signed');
    });

    test('an untouched log verifies, one chain per mode, checkpoints included', async () => {
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(
        report.chains.map((c) => [c.chain, c.rowsChecked, c.headSeq, c.checkpointsChecked, c.unsealedRows]),
        [
          ['test', 6, 6, 1, 0],
          ['live', 2, 2, 1, 0],
          ['global', 1, 1, 1, 0],
        ],
      );
      const first = await rowAt(1);
      assert.equal(first.prev_hash, GENESIS_HASH);
      assert.equal((await rowAt(2)).prev_hash, first.hash);
      assert.deepEqual(JSON.parse((await rowAt(6)).details_json), { n: 6 }, 'sealed in the order they were written');
      assert.equal(await writeCheckpoints({ ...database, clock, signer }), 0, 'no new checkpoint while no head moved');
    });

    test('a changed row is named', async () => {
      await sql`update audit_log set details_json = '{"n":99}' where chain = 'test' and seq = 3`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind, problem.seq], ['test', 'changed', 3]);
      assert.equal(problem.rowId, (await rowAt(3)).id);
    });

    test('a changed row whose hash was recomputed breaks the link to its successor', async () => {
      await sql`update audit_log set action = 'payment.transition.pending.failed' where chain = 'test' and seq = 3`.execute(
        db(),
      );
      await rehash(3);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['broken_link', 4]);
    });

    test('a removed row is named by its position', async () => {
      await sql`delete from audit_log where chain = 'test' and seq = 3`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['removed', 3]);
      assert.match(problem.message, /row 3 is missing/);
    });

    test('a row inserted in the middle (later rows renumbered, the new row hashed correctly) is found where it lands', async () => {
      await sql`update audit_log set seq = seq + 1000 where chain = 'test' and seq >= 3`.execute(db());
      await sql`update audit_log set seq = seq - 999 where chain = 'test' and seq >= 1000`.execute(db());
      const before = await rowAt(2);
      const forged: AuditLogTable = {
        ...before,
        id: 'aud_forged',
        seq: 3,
        prev_hash: before.hash,
        action: 'payment.refund',
        hash: '',
      };
      await db()
        .insertInto('audit_log')
        .values({ ...forged, hash: auditRowHash(forged) })
        .execute();
      const problem = firstProblem(await verify());
      // The forged row itself links correctly; the row it displaced no longer matches its hash.
      assert.deepEqual([problem.kind, problem.seq], ['changed', 4]);
    });

    test('a row added past the end, outside the gateway, is found', async () => {
      const last = await rowAt(6);
      const forged: AuditLogTable = { ...last, id: 'aud_forged', seq: 7, prev_hash: last.hash, hash: '' };
      await db()
        .insertInto('audit_log')
        .values({ ...forged, hash: auditRowHash(forged) })
        .execute();
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['inserted', 7]);
    });

    test('reordered rows are named, whether or not their hashes were recomputed', async () => {
      await sql`update audit_log set seq = 100 where chain = 'test' and seq = 2`.execute(db());
      await sql`update audit_log set seq = 2 where chain = 'test' and seq = 3`.execute(db());
      await sql`update audit_log set seq = 3 where chain = 'test' and seq = 100`.execute(db());
      assert.deepEqual(((p) => [p.kind, p.seq])(firstProblem(await verify())), ['changed', 2]);
      await rehash(2);
      await rehash(3);
      assert.deepEqual(((p) => [p.kind, p.seq])(firstProblem(await verify())), ['broken_link', 2]);
    });

    test('rows cut off the end are found by the signed checkpoint, even with the head moved back', async () => {
      await sql`delete from audit_log where chain = 'test' and seq >= 5`.execute(db());
      await setHead(4);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['truncated', 5]);
      assert.match(problem.message, /checkpoint .* row 6/);
    });

    test('rows cut off the end with the head left alone are found by the head', async () => {
      await sql`delete from audit_checkpoints where chain = 'test'`.execute(db());
      await sql`delete from audit_log where chain = 'test' and seq = 6`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['truncated', 6]);
      assert.match(problem.message, /head names row 6/);
    });

    test('a checkpoint with a forged signature, changed after signing, or signed by an unknown key, is refused', async () => {
      const other = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
      await sql`update audit_checkpoints set signature = ${other.sign('x')} where chain = 'live'`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind], ['live', 'checkpoint_invalid']);
      // A checkpoint re-signed for a shortened chain with a key the verifier does not trust.
      const head = await rowAt(1, 'live');
      const shortened = { chain: 'live', seq: 1, hash: head.hash, signed_at: clock.nowMs() };
      await sql`delete from audit_checkpoints where chain = 'live'`.execute(db());
      await db()
        .insertInto('audit_checkpoints')
        .values({
          id: 'ack_other',
          ...shortened,
          key_id: other.keyId,
          signature: other.sign(checkpointMessage(shortened)),
          set_id: null,
        })
        .execute();
      assert.match(firstProblem(await verify()).message, /unknown key/);
      await sql`update audit_checkpoints set seq = 5 where chain = 'test'`.execute(db());
      assert.deepEqual(((p) => [p.chain, p.kind])(firstProblem(await verify())), ['test', 'checkpoint_invalid']);
    });

    test('a rewritten chain (every later hash recomputed) disagrees with its signed checkpoint', async () => {
      await sql`update audit_log set details_json = '{"n":0}' where chain = 'test' and seq = 5`.execute(db());
      for (let seq = 5; seq <= 6; seq += 1) {
        const previous = await rowAt(seq - 1);
        await sql`update audit_log set prev_hash = ${previous.hash} where chain = 'test' and seq = ${seq}`.execute(
          db(),
        );
        await rehash(seq);
      }
      await setHead(6);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['checkpoint_mismatch', 6]);
    });

    test('a rolled-back change leaves no row and no gap', async () => {
      await db()
        .transaction()
        .execute(async (tx) => {
          await writeAudit(tx, clock, auditEntry('x_rollback', { n: 'x' }));
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await writeAudit(db(), clock, auditEntry('x_rollback', { n: 'y' }));
      assert.equal(await seal(), 1);
      assert.deepEqual(JSON.parse((await rowAt(7)).details_json), { n: 'y' });
      assert.equal((await verify()).ok, true);
    });

    test('unsealed rows are counted; one left unsealed past 5 minutes is named', async () => {
      await writeAudit(db(), clock, auditEntry('x_late'));
      const young = await verify();
      assert.equal(young.ok, true, 'a row the sealer has not reached yet is not a problem');
      assert.equal(young.chains.find((c) => c.chain === 'test')!.unsealedRows, 1);
      const row = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', 'x_late')
        .executeTakeFirstOrThrow();
      assert.deepEqual([row.seq, row.prev_hash, row.hash], [0, '', '']);
      clock.advance(6 * MINUTE_MS);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind, problem.rowId], ['test', 'unsealed', row.id]);
      assert.match(problem.message, /is the sealer running/);
      assert.equal(await seal(), 1);
      assert.equal((await verify()).ok, true);
      assert.equal((await rowAt(7)).id, row.id);
      // An unsealed row naming a chain no sealer works (a frozen lane of 0017, or no chain) is found at once.
      const { position: _position, ...content } = row;
      await db()
        .insertInto('audit_log')
        .values({ ...content, id: 'aud_stray', chain: 'test.3', seq: 0, prev_hash: '', hash: '' })
        .execute();
      assert.deepEqual(((p) => [p.chain, p.kind, p.rowId])(firstProblem(await verify())), [
        'test.3',
        'inserted',
        'aud_stray',
      ]);
      await sql`update audit_log set chain = 'nowhere' where id = 'aud_stray'`.execute(db());
      assert.deepEqual(((p) => [p.chain, p.kind, p.rowId])(firstProblem(await verify())), [
        'nowhere',
        'inserted',
        'aud_stray',
      ]);
      // A row numbered below every chain is read by no walk: found all the same.
      await sql`update audit_log set chain = 'test', seq = -1 where id = 'aud_stray'`.execute(db());
      assert.deepEqual(((p) => [p.chain, p.kind, p.rowId])(firstProblem(await verify())), [
        'test',
        'inserted',
        'aud_stray',
      ]);
    });
  });
}
