// A transaction's writes sent together (transaction-writes.ts) on both databases: they run in
// order inside the caller's transaction and commit with it; the first failure stops the rest,
// carries its database error code, and the caller's rollback takes back the whole batch. (That it
// is one round trip on SQLite is counted by bench/statements.ts.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';
import { enqueueInsert } from '../jobs/queue.ts';
import { executeTogether, executeWrites } from './transaction-writes.ts';
import type { Tx } from './schema.ts';

for (const dialect of await testDialects()) {
  describe(`transaction writes on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database?.close());

    const job = (trx: Tx, kind: string, dedupeKey?: string) =>
      enqueueInsert(
        trx,
        { kind, payload: { n: 1 }, ...(dedupeKey === undefined ? {} : { dedupeKey }) },
        1_000,
      ).compile();
    const kinds = async () =>
      (await database.db.selectFrom('jobs').select('kind').where('kind', 'like', 'tw-%').orderBy('kind').execute()).map(
        (row) => row.kind,
      );
    const duplicateId = (trx: Tx, id: string) =>
      trx
        .insertInto('jobs')
        .values({
          id,
          kind: 'tw-duplicate',
          payload_json: '{}',
          status: 'done',
          attempts: 0,
          max_attempts: 1,
          run_at: 0,
          lease_until: null,
          last_error: null,
          dedupe_key: null,
          created_at: 0,
          updated_at: 0,
        })
        .compile();

    test('they run in order inside the transaction, are seen by its next statements and commit with it', async () => {
      await database.db.transaction().execute(async (trx) => {
        await executeWrites(trx, [job(trx, 'tw-a'), job(trx, 'tw-b', 'tw-key'), job(trx, 'tw-c', 'tw-key')]);
        const inside = await trx.selectFrom('jobs').select('kind').where('kind', 'like', 'tw-%').execute();
        // The third was a no-op: its dedupe key was taken by the second, earlier in the same batch.
        assert.deepEqual(inside.map((row) => row.kind).sort(), ['tw-a', 'tw-b']);
      });
      assert.deepEqual(await kinds(), ['tw-a', 'tw-b']);
    });

    test('the first failure stops the rest, carries its code, and the rollback takes back the batch', async () => {
      const failure = await database.db
        .transaction()
        .execute(async (trx) => {
          await executeWrites(trx, [
            job(trx, 'tw-d'),
            duplicateId(trx, 'job_tw_same'),
            duplicateId(trx, 'job_tw_same'),
            job(trx, 'tw-e'),
          ]);
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      assert.ok(failure !== undefined, 'the duplicate id failed the batch');
      assert.equal(database.dialect.isUniqueViolation(failure), true, String(failure));
      assert.deepEqual(await kinds(), ['tw-a', 'tw-b'], 'nothing of the failed batch is left');
    });

    test('sent together with their results: each statement answers its own, in order', async () => {
      await database.db.transaction().execute(async (trx) => {
        const [inserted, updated, read] = await executeTogether(trx, [
          enqueueInsert(trx, { kind: 'tw-g', payload: { n: 2 } }, 1_000)
            .returning(['kind', 'payload_json'])
            .compile(),
          trx.updateTable('jobs').set({ attempts: 3 }).where('kind', '=', 'tw-g').compile(),
          trx.selectFrom('jobs').select('attempts').where('kind', '=', 'tw-g').compile(),
        ]);
        assert.deepEqual(inserted?.rows, [{ kind: 'tw-g', payload_json: '{"n":2}' }]);
        assert.equal(Number(updated?.numAffectedRows), 1, 'the update saw the insert before it');
        assert.deepEqual(
          read?.rows.map((row) => Number((row as { attempts: number }).attempts)),
          [3],
        );
      });
      assert.deepEqual(await executeTogether(database.db as unknown as Tx, []), []);
      await database.db.deleteFrom('jobs').where('kind', '=', 'tw-g').execute();
    });

    test('an empty batch is nothing, and the transaction goes on', async () => {
      await database.db.transaction().execute(async (trx) => {
        await executeWrites(trx, []);
        await executeWrites(trx, [job(trx, 'tw-f')]);
      });
      assert.deepEqual(await kinds(), ['tw-a', 'tw-b', 'tw-f']);
    });
  });
}
