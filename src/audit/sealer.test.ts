// Writing and sealing the audit log from several gateway processes, on both databases (PostgreSQL
// for real: two pools on one schema; SQLite serves one process, so there both "processes" share
// its one handle): rows written at once, with sealers racing in both, end up in ONE chain per mode
// with consecutive numbers and valid links; rows of one object in their causal order; racing
// sealers never fork the chain or seal a row twice; the periodic pass skips a head another process
// holds; the gateway's loop seals on its own. test/cluster/cluster-test.ts checks the same with
// three real gateway processes, SIGKILLs and a database cut.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../log.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { auditEntry } from '../../test/helpers/audit.ts';
import { writeAudit } from './audit.ts';
import { GENESIS_HASH } from './chain.ts';
import { writeCheckpoints } from './checkpoints.ts';
import { createSealerLoop, sealAuditLog } from './sealer.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog } from './verify.ts';

const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
const keyring = keyringOf([signer.publicKey]);

for (const dialect of await testDialects()) {
  describe(`audit sealer on ${dialect.name}`, { skip: dialect.skip }, () => {
    let url: string;
    let cleanup: () => Promise<void>;
    let database: DatabaseHandle;
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
    beforeEach(async () => {
      await sql`delete from audit_log`.execute(db());
      await sql`delete from audit_checkpoints`.execute(db());
      await sql`update audit_chain_heads set seq = 0, hash = ${GENESIS_HASH}`.execute(db());
    });
    const db = () => database.db;
    /** Another gateway process on the same database: its own pool on PostgreSQL; SQLite serves one process. */
    const openSecond = (): DatabaseHandle & { release(): Promise<void> } =>
      dialect.name === 'sqlite'
        ? { ...database, release: async () => undefined }
        : ((handle) => ({ ...handle, release: () => handle.close() }))(openDatabase(url, { poolSize: 4 }));
    const seal = () => sealAuditLog(database);
    const verify = () => verifyAuditLog({ db: db(), keyring, nowMs: clock.nowMs() });
    const chainSeqs = async (chain: string) =>
      (
        await db()
          .selectFrom('audit_log')
          .select('seq')
          .where('chain', '=', chain)
          .where('seq', '>', 0)
          .orderBy('seq')
          .execute()
      ).map((r) => Number(r.seq));

    test('two gateway processes writing at once, each running the sealer: one chain, consecutive, linked', async () => {
      const second = openSecond();
      try {
        let writing = true;
        const sealerLoop = async (handle: DatabaseHandle) => {
          let sealed = 0;
          while (writing) sealed += await sealAuditLog(handle);
          return sealed;
        };
        const sealers = [sealerLoop(database), sealerLoop(second)];
        await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            writeAudit((i % 2 === 0 ? database : second).db, clock, auditEntry(`x_${i}`, { i })),
          ),
        );
        writing = false;
        const sealedByLoops = (await Promise.all(sealers)).reduce((a, b) => a + b, 0);
        const sealedAfter = await seal();
        assert.equal(sealedByLoops + sealedAfter, 40, 'every row sealed exactly once');
        assert.deepEqual(
          await chainSeqs('test'),
          Array.from({ length: 40 }, (_, i) => i + 1),
        );
        const report = await verify();
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(report.chains.find((c) => c.chain === 'test')!.rowsChecked, 40);
      } finally {
        await second.release();
      }
    });

    test('rows of one object are sealed in their causal order, whichever process wrote them', async () => {
      const second = openSecond();
      try {
        let writing = true;
        const background = async () => {
          while (writing) {
            await Promise.all([
              writeAudit(second.db, clock, auditEntry('x_noise')),
              writeAudit(database.db, clock, auditEntry('x_noise')),
              sealAuditLog(second),
            ]);
          }
        };
        const noise = background();
        // Each write starts after the previous one committed, from alternating processes.
        for (let n = 0; n < 30; n += 1)
          await (n % 2 === 0 ? database : second).db
            .transaction()
            .execute((tx) => writeAudit(tx, clock, auditEntry('x_causal', { n })));
        writing = false;
        await noise;
        await seal();
        const rows = await db()
          .selectFrom('audit_log')
          .select(['seq', 'details_json'])
          .where('object_id', '=', 'x_causal')
          .orderBy('seq')
          .execute();
        assert.deepEqual(
          rows.map((r) => JSON.parse(r.details_json).n),
          Array.from({ length: 30 }, (_, n) => n),
        );
        assert.ok(rows.every((r) => r.seq > 0));
        assert.equal((await verify()).ok, true);
      } finally {
        await second.release();
      }
    });

    test('sealers racing on one chain from two processes never fork it', async () => {
      const second = openSecond();
      try {
        for (let batch = 0; batch < 6; batch += 1)
          await Promise.all(
            Array.from({ length: 50 }, (_, i) => writeAudit(db(), clock, auditEntry(`x_race_${batch}_${i}`))),
          );
        const sealed = await Promise.all([seal(), sealAuditLog(second), seal(), sealAuditLog(second)]);
        assert.equal(
          sealed.reduce((a, b) => a + b, 0),
          300,
          'each row sealed by exactly one sealer',
        );
        assert.deepEqual(
          await chainSeqs('test'),
          Array.from({ length: 300 }, (_, i) => i + 1),
        );
        const report = await verify();
        assert.equal(report.ok, true, JSON.stringify(report.problems));
        assert.equal(await writeCheckpoints({ ...database, clock, signer }), 1);
      } finally {
        await second.release();
      }
    });

    test('the periodic sealer skips a chain whose head another process holds, and seals it on a later pass', async () => {
      await writeAudit(db(), clock, auditEntry('x_skip'));
      if (dialect.name === 'postgres') {
        const second = openSecond();
        try {
          let release = () => undefined as void;
          const held = new Promise<void>((resolve) => {
            release = resolve;
          });
          let locked = () => undefined as void;
          const lockTaken = new Promise<void>((resolve) => {
            locked = resolve;
          });
          const holder = second.db.transaction().execute(async (tx) => {
            await sql`select seq from audit_chain_heads where chain = 'test' for update`.execute(tx);
            locked();
            await held;
          });
          await lockTaken;
          assert.equal(await sealAuditLog(database, { skipLocked: true }), 0, 'skipped, not waiting');
          release();
          await holder;
        } finally {
          await second.release();
        }
      }
      assert.equal(await sealAuditLog(database, { skipLocked: true }), 1);
      assert.equal((await verify()).ok, true);
    });

    test("the gateway's sealer loop seals committed rows on its own; stopping it waits for its pass", async () => {
      const unsealed = async () =>
        Number(
          (
            await db()
              .selectFrom('audit_log')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('seq', '=', 0)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const loop = createSealerLoop({ ...database, logger: createLogger('silent'), intervalMs: 10 });
      loop.start();
      try {
        for (let i = 0; i < 5; i += 1) await writeAudit(db(), clock, auditEntry('x_loop', { i }));
        // The loop runs on a timer of its own: wait for it (bounded), as an operator would.
        for (const deadline = Date.now() + 30_000; (await unsealed()) > 0 && Date.now() < deadline; )
          await new Promise((resolve) => setTimeout(resolve, 20));
      } finally {
        await loop.stop();
      }
      assert.equal(await unsealed(), 0);
      assert.deepEqual(await chainSeqs('test'), [1, 2, 3, 4, 5]);
      assert.equal((await verify()).ok, true);
    });
  });
}
