// Migration 0019 on a database that used 0017's lanes, on both databases: the lanes' rows stay as
// frozen history and still verify, with their v2 checkpoint sets; the row that closes them is
// sealed into each mode's chain (lane 0, whose name the mode's chain keeps) and names every lane's
// head, so a lane cut or extended afterwards is found even with its checkpoints removed; new rows
// continue the mode's chain.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest, migrateUpTo } from '../db/migrate.ts';
import type { AuditLogTable, Database } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { allowOwnerTampering } from '../../test/helpers/audit.ts';
import { writeAudit } from './audit.ts';
import { closedLanesOf, GENESIS_HASH, LANES_CLOSED_ACTION, sealRow } from './chain.ts';
import { checkpointSetMessage, writeCheckpoints } from './checkpoints.ts';
import { sealAuditLog } from './sealer.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog, type AuditVerifyReport } from './verify.ts';
import type { Kysely } from 'kysely';

const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
const keyring = keyringOf([signer.publicKey]);
const LANE_ROWS: Record<string, number> = { test: 2, 'test.3': 3, 'test.9': 1, 'live.5': 2 };

/** What the gateway of 0017 did: rows appended to lanes, the heads advanced, every lane of a mode signed in one set. */
async function writeAsLanesDid(db: Kysely<Database>, nowMs: number): Promise<void> {
  for (const [lane, count] of Object.entries(LANE_ROWS)) {
    let prevHash = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq += 1) {
      const row = sealRow(
        {
          id: newId('aud'),
          mode: lane.startsWith('test') ? ('test' as const) : ('live' as const),
          actor_type: 'system' as const,
          actor_id: null,
          action: 'x.done',
          object_type: 'x',
          object_id: `x_${lane}`,
          request_id: null,
          ip: null,
          user_agent: null,
          result: 'success' as const,
          details_json: JSON.stringify({ seq }),
          created_at: nowMs,
          chain: lane,
          seq: 0,
          prev_hash: '',
          hash: '',
        },
        seq,
        prevHash,
      );
      await db.insertInto('audit_log').values(row).execute();
      prevHash = row.hash;
    }
    await db.updateTable('audit_chain_heads').set({ seq: count, hash: prevHash }).where('chain', '=', lane).execute();
  }
  for (const base of ['test', 'live']) {
    const heads = await db
      .selectFrom('audit_chain_heads')
      .select(['chain', 'seq', 'hash'])
      .where((eb) => eb.or([eb('chain', '=', base), eb('chain', 'like', `${base}.%`)]))
      .execute();
    const setId = newId('acs');
    const rows = heads.map((h) => ({
      chain: h.chain,
      seq: Number(h.seq),
      hash: h.hash,
      signed_at: nowMs,
      set_id: setId,
    }));
    const signature = signer.sign(checkpointSetMessage(rows));
    await db
      .insertInto('audit_checkpoints')
      .values(rows.map((r) => ({ id: newId('ack'), ...r, key_id: signer.keyId, signature })))
      .execute();
  }
}

function firstProblem(report: AuditVerifyReport) {
  assert.equal(report.ok, false, 'the tampering must be found');
  return report.problems[0]!;
}

for (const dialect of await testDialects()) {
  describe(`audit lanes of 0017 after migration 0019 on ${dialect.name}`, { skip: dialect.skip }, () => {
    let cleanup: () => Promise<void>;
    let database: DatabaseHandle;
    const clock = manualClock();
    before(async () => {
      let url: string;
      ({ url, cleanup } = await dialect.create());
      database = openDatabase(url, { poolSize: 4 });
      await migrateUpTo(database, '0017-audit-lanes');
      await writeAsLanesDid(database.db, clock.nowMs());
      assert.ok((await migrateToLatest(database)).includes('0019-audit-sealer'));
      await allowOwnerTampering(database);
    });
    after(async () => {
      await database.close();
      await cleanup();
    });
    const db = () => database.db;
    const verify = () => verifyAuditLog({ db: db(), keyring, nowMs: clock.nowMs() });

    test('the lanes verify with their signed sets; the mode chain names their heads and goes on', async () => {
      const closing = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', LANES_CLOSED_ACTION)
        .orderBy('chain')
        .execute();
      assert.deepEqual(
        closing.map((r) => [r.chain, r.seq]),
        [
          ['live', 1],
          ['test', 3],
        ],
        'one row per mode with lanes in use, sealed after lane 0; global had none',
      );
      const testLanes = closedLanesOf(closing[1]! as AuditLogTable)!;
      assert.equal(testLanes.size, 15);
      assert.equal(testLanes.get('test.3')!.seq, 3);
      assert.equal(testLanes.get('test.4')!.seq, 0);

      await writeAudit(db(), clock, {
        mode: 'test',
        actorType: 'system',
        actorId: null,
        action: 'after.migration',
        objectType: 'x',
        objectId: 'x_new',
      });
      assert.equal(await writeCheckpoints({ ...database, clock, signer }), 2, 'test and live moved (the closing rows)');
      const report = await verify();
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.deepEqual(
        report.chains.map((c) => [c.chain, c.rowsChecked, c.headSeq]),
        [
          ['test', 4, 4],
          ['live', 1, 1],
          ['global', 0, 0],
          ['test.3', 3, 3],
          ['test.9', 1, 1],
          ['live.5', 2, 2],
        ],
        'the mode chains, then the lanes that held rows',
      );
      const newRow = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'after.migration')
        .executeTakeFirstOrThrow();
      assert.deepEqual([newRow.chain, newRow.seq, newRow.prev_hash], ['test', 4, closing[1]!.hash]);
    });

    test("a lane's checkpoint taken out of its v2 set invalidates the set", async () => {
      const taken = await db()
        .selectFrom('audit_checkpoints')
        .selectAll()
        .where('chain', '=', 'live.7')
        .executeTakeFirstOrThrow();
      await sql`delete from audit_checkpoints where id = ${taken.id}`.execute(db());
      const problem = firstProblem(await verify());
      assert.equal(problem.kind, 'checkpoint_invalid');
      assert.match(problem.message, /lane's checkpoint removed/);
      await db().insertInto('audit_checkpoints').values(taken).execute();
      assert.equal((await verify()).ok, true);
    });

    test('a lane cut at its end, head and checkpoints moved too, is found by the row that closed the lanes', async () => {
      const last = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', 'test.3')
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      const second = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', 'test.3')
        .where('seq', '=', 2)
        .executeTakeFirstOrThrow();
      const checkpoints = await db().selectFrom('audit_checkpoints').selectAll().execute();
      await sql`delete from audit_checkpoints`.execute(db());
      await sql`delete from audit_log where id = ${last.id}`.execute(db());
      await sql`update audit_chain_heads set seq = 2, hash = ${second.hash} where chain = 'test.3'`.execute(db());
      const problem = firstProblem(await verify());
      assert.deepEqual([problem.chain, problem.kind, problem.seq], ['test.3', 'truncated', 3]);
      assert.match(problem.message, /closed the lanes \(row 3 of the mode's chain\) names row 3/);

      // Put back, then a row added to a closed lane (hashed and linked, head moved) is found too.
      await db().insertInto('audit_log').values(last).execute();
      await sql`update audit_chain_heads set seq = 3, hash = ${last.hash} where chain = 'test.3'`.execute(db());
      await db().insertInto('audit_checkpoints').values(checkpoints).execute();
      assert.equal((await verify()).ok, true);
      const added = sealRow({ ...last, id: newId('aud'), action: 'x.added' }, 4, last.hash);
      await db().insertInto('audit_log').values(added).execute();
      await sql`update audit_chain_heads set seq = 4, hash = ${added.hash} where chain = 'test.3'`.execute(db());
      assert.deepEqual(((p) => [p.chain, p.kind, p.seq])(firstProblem(await verify())), ['test.3', 'inserted', 4]);
      await sealAuditLog(database);
    });
  });
}
