// The tamper-evident audit log (LOG-4) on both databases: every kind of tampering done with direct
// SQL (changed, removed, inserted, reordered, truncated, a forged checkpoint, a lane's checkpoint
// taken out of its signed set) is found and the first bad row named; appends from two "processes"
// (two pools) on one database form unbroken chains, spread over the lanes of the mode.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { AuditLogTable } from '../db/schema.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { writeAudit } from './audit.ts';
import { AUDIT_LANES, auditRowHash, GENESIS_HASH, laneOf, lanesOf } from './chain.ts';
import { checkpointMessage, writeCheckpoints } from './checkpoints.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog, type AuditVerifyReport } from './verify.ts';

const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
const keyring = keyringOf([signer.publicKey]);

function firstProblem(report: AuditVerifyReport) {
  assert.equal(report.ok, false, 'the tampering must be found');
  return report.problems[0]!;
}

for (const dialect of await testDialects()) {
  describe(`audit chain on ${dialect.name}`, { skip: dialect.skip }, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    let database: ReturnType<typeof openDatabase>;
    const clock = manualClock();
    before(async () => {
      ({ url, cleanup } = await dialect.create());
      database = openDatabase(url, { poolSize: 4 });
      await migrateToLatest(database);
    });
    after(async () => {
      await database.close();
      await cleanup();
    });
    const db = () => database.db;
    // The six test rows are about one object, so they share its lane: the chain the tampering targets.
    const lane = laneOf('test', 'payment', 'pay_chain');
    const liveLane = laneOf('live', 'x', 'x_1');
    const globalLane = laneOf(null, 'x', 'x_1');
    const verify = () => verifyAuditLog({ db: db(), keyring });
    const rowAt = (seq: number) =>
      db()
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', lane)
        .where('seq', '=', seq)
        .executeTakeFirstOrThrow();
    /** What an attacker who knows the documented hashing does: recompute a row's hash after editing it. */
    const rehash = async (seq: number) => {
      const row = await rowAt(seq);
      await sql`update audit_log set hash = ${auditRowHash(row)} where id = ${row.id}`.execute(db());
    };
    const setHead = async (seq: number) => {
      const row = await rowAt(seq);
      await sql`update audit_chain_heads set seq = ${seq}, hash = ${row.hash} where chain = ${lane}`.execute(db());
    };

    // Six rows in one test lane, two in a live lane, one global; checkpoints signed for all lanes.
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
      assert.equal(await writeCheckpoints({ db: db(), clock, signer }), 3);
    });

    test('an untouched log verifies, chain by chain, checkpoints included', async () => {
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.chains.length, 3 * AUDIT_LANES, 'every lane of every mode is checked');
      assert.deepEqual(
        report.chains
          .filter((c) => c.rowsChecked > 0)
          .map((c) => [c.chain, c.rowsChecked, c.headSeq, c.checkpointsChecked]),
        [
          [lane, 6, 6, 1],
          [liveLane, 2, 2, 1],
          [globalLane, 1, 1, 1],
        ],
      );
      assert.ok(
        report.chains.every((c) => c.checkpointsChecked === 1),
        'one signed set per mode covers every lane, moved or not',
      );
      const first = await rowAt(1);
      assert.equal(first.prev_hash, GENESIS_HASH);
      assert.equal((await rowAt(2)).prev_hash, first.hash);
      assert.equal(await writeCheckpoints({ db: db(), clock, signer }), 0, 'no new checkpoint while no head moved');
    });

    test('a changed row is named', async () => {
      await sql`update audit_log set details_json = '{"n":99}' where chain = ${lane} and seq = 3`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind, problem.seq], [lane, 'changed', 3]);
      assert.equal(problem.rowId, (await rowAt(3)).id);
    });

    test('a changed row whose hash was recomputed breaks the link to its successor', async () => {
      await sql`update audit_log set action = 'payment.transition.pending.failed' where chain = ${lane} and seq = 3`.execute(
        db(),
      );
      await rehash(3);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['broken_link', 4]);
    });

    test('a removed row is named by its position', async () => {
      await sql`delete from audit_log where chain = ${lane} and seq = 3`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['removed', 3]);
      assert.match(problem.message, /row 3 is missing/);
    });

    test('a row inserted in the middle (later rows renumbered, the new row hashed correctly) is found where it lands', async () => {
      await sql`update audit_log set seq = seq + 1000 where chain = ${lane} and seq >= 3`.execute(db());
      await sql`update audit_log set seq = seq - 999 where chain = ${lane} and seq >= 1000`.execute(db());
      const before = await rowAt(2);
      const forged: AuditLogTable = {
        ...before,
        id: 'aud_forged',
        seq: 3,
        prev_hash: before.hash,
        action: 'payment.refund',
        hash: '',
      };
      const hashed = { ...forged, hash: auditRowHash(forged) };
      await db().insertInto('audit_log').values(hashed).execute();
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
      await sql`update audit_log set seq = 100 where chain = ${lane} and seq = 2`.execute(db());
      await sql`update audit_log set seq = 2 where chain = ${lane} and seq = 3`.execute(db());
      await sql`update audit_log set seq = 3 where chain = ${lane} and seq = 100`.execute(db());
      assert.deepEqual(((p) => [p.kind, p.seq])(firstProblem(await verify())), ['changed', 2]);
      await rehash(2);
      await rehash(3);
      assert.deepEqual(((p) => [p.kind, p.seq])(firstProblem(await verify())), ['broken_link', 2]);
    });

    test('rows cut off the end are found by the signed checkpoint, even with the head moved back', async () => {
      await sql`delete from audit_log where chain = ${lane} and seq >= 5`.execute(db());
      await setHead(4);
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['truncated', 5]);
      assert.match(problem.message, /checkpoint .* row 6/);
    });

    test('rows cut off the end with the head left alone are found by the head', async () => {
      await sql`delete from audit_checkpoints where chain like 'test%'`.execute(db());
      await sql`delete from audit_log where chain = ${lane} and seq = 6`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.kind, problem.seq], ['truncated', 6]);
      assert.match(problem.message, /head names row 6/);
    });

    test('a checkpoint with a forged signature, or signed by an unknown key, is refused', async () => {
      const other = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
      await sql`update audit_checkpoints set signature = ${other.sign('x')} where chain = 'live'`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind], ['live', 'checkpoint_invalid']);
      // A checkpoint re-signed for a shortened chain with a key the verifier does not trust.
      await sql`update audit_checkpoints set key_id = ${other.keyId} where chain like 'live%'`.execute(db());
      assert.match(firstProblem(await verify()).message, /unknown key/);
    });

    test('a rewritten chain (every later hash recomputed) disagrees with its signed checkpoint', async () => {
      await sql`update audit_log set details_json = '{"n":0}' where chain = ${lane} and seq = 5`.execute(db());
      for (let seq = 5; seq <= 6; seq += 1) {
        const previous = await rowAt(seq - 1);
        await sql`update audit_log set prev_hash = ${previous.hash} where chain = ${lane} and seq = ${seq}`.execute(
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
          await writeAudit(tx, clock, {
            mode: 'test',
            actorType: 'system',
            actorId: null,
            action: 'x',
            objectType: 'payment',
            objectId: 'pay_chain',
          });
          throw new Error('roll back');
        })
        .catch(() => undefined);
      await writeAudit(db(), clock, {
        mode: 'test',
        actorType: 'system',
        actorId: null,
        action: 'y',
        objectType: 'payment',
        objectId: 'pay_chain',
      });
      assert.equal((await rowAt(7)).action, 'y');
      assert.equal((await verify()).ok, true);
    });

    test('two processes appending at once form unbroken chains, spread over the lanes', async () => {
      const second = openDatabase(url, { poolSize: 4 });
      try {
        const write = (handle: typeof database, i: number) =>
          writeAudit(handle.db, clock, {
            mode: 'test',
            actorType: 'system',
            actorId: null,
            action: 'concurrent',
            objectType: 'x',
            objectId: `x_${i}`,
          });
        await Promise.all(Array.from({ length: 40 }, (_, i) => write(i % 2 === 0 ? database : second, i)));
        const report = await verify();
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        const testLanes = report.chains.filter((c) => lanesOf('test').includes(c.chain));
        assert.equal(
          testLanes.reduce((n, c) => n + c.rowsChecked, 0),
          46,
        );
        assert.ok(testLanes.filter((c) => c.rowsChecked > 0).length >= 8, 'forty objects use most of the lanes');
        const spread = await db()
          .selectFrom('audit_log')
          .select(['object_id', (eb) => eb.fn.count<number>('chain').distinct().as('lanes')])
          .where('action', '=', 'concurrent')
          .groupBy('object_id')
          .execute();
        assert.ok(
          spread.every((r) => Number(r.lanes) === 1),
          'each object in one lane',
        );
      } finally {
        await second.close();
      }
    });

    test("a lane's checkpoint taken out of its signed set, or changed, invalidates the set", async () => {
      await sql`delete from audit_checkpoints where chain = ${'live.7'}`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind], ['live', 'checkpoint_invalid']);
      assert.match(problem.message, /its set .* lane's checkpoint removed/);
    });

    test('rows cut off one lane after a later set was signed are found by that set', async () => {
      // Rows appended to a lane after the set, then cut off with the head moved back: the next set
      // (written after the rows) names them.
      clock.advance(1000);
      await writeAudit(db(), clock, {
        mode: 'live',
        actorType: 'system',
        actorId: null,
        action: 'late',
        objectType: 'x',
        objectId: 'x_1',
      });
      assert.equal(await writeCheckpoints({ db: db(), clock, signer }), 1, 'only the mode that moved is signed again');
      await sql`delete from audit_log where chain = ${liveLane} and seq = 3`.execute(db());
      await sql`update audit_chain_heads set seq = 2 where chain = ${liveLane}`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind, problem.seq], [liveLane, 'truncated', 3]);
    });

    test("a transaction's audit rows of one mode share a lane, whatever objects they name", async () => {
      await db()
        .transaction()
        .execute(async (tx) => {
          for (const objectId of ['a_1', 'b_2', 'c_3', 'd_4'])
            await writeAudit(tx, clock, {
              mode: 'test',
              actorType: 'system',
              actorId: null,
              action: 'together',
              objectType: 'x',
              objectId,
            });
        });
      const chains = await db()
        .selectFrom('audit_log')
        .select('chain')
        .distinct()
        .where('action', '=', 'together')
        .execute();
      assert.deepEqual(
        chains.map((c) => c.chain),
        [laneOf('test', 'x', 'a_1')],
      );
      assert.equal((await verify()).ok, true);
    });

    test('a checkpoint signed alone before lanes (v1) still verifies', async () => {
      const head = await rowAt(6);
      const unsigned = { chain: lane, seq: 6, hash: head.hash, signed_at: clock.nowMs() };
      await db()
        .insertInto('audit_checkpoints')
        .values({
          id: 'ack_v1',
          ...unsigned,
          key_id: signer.keyId,
          signature: signer.sign(checkpointMessage(unsigned)),
          set_id: null,
        })
        .execute();
      assert.equal((await verify()).ok, true);
      await sql`update audit_checkpoints set seq = 5 where id = 'ack_v1'`.execute(db());
      assert.equal(firstProblem(await verify()).kind, 'checkpoint_invalid');
    });
  });
}
