import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createGroupCommitter } from './group-commit.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

for (const dialect of await testDialects()) {
  describe(`group commit on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());

    const insertEvent = (id: string) => async (trx: Parameters<Parameters<ReturnType<typeof createGroupCommitter>['run']>[0]>[0]) => {
      await trx.insertInto('events').values({ id, mode: 'test', type: 't', object_id: 'o', data_json: '{}', created_at: 1 }).execute();
      return id;
    };

    test('concurrent work shares transactions and each caller gets its own result', async () => {
      let transactions = 0;
      const counting = createGroupCommitter({ transaction: () => { transactions += 1; return database.db.transaction(); } } as unknown as typeof database.db);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => counting.run(insertEvent(`gc_${i}`))));
      assert.deepEqual(results, Array.from({ length: 50 }, (_, i) => `gc_${i}`));
      assert.ok(transactions < 50, `expected batching, got ${transactions} transactions for 50 writes`);
      const count = await database.db.selectFrom('events').select(sql<number>`count(*)`.as('n')).where('id', 'like', 'gc_%').executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 50);
    });

    test('one failing item does not fail or lose its neighbours', async () => {
      const committer = createGroupCommitter(database.db);
      await committer.run(insertEvent('dup_1'));
      const outcomes = await Promise.allSettled([committer.run(insertEvent('ok_1')), committer.run(insertEvent('dup_1')), committer.run(insertEvent('ok_2'))]);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      const ids = (await database.db.selectFrom('events').select('id').where('id', 'in', ['ok_1', 'ok_2']).execute()).map((r) => r.id).sort();
      assert.deepEqual(ids, ['ok_1', 'ok_2']);
    });
  });
}
