import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from './batcher.ts';
import type { IngestRow } from './dialect.ts';
import { buildJobRow } from '../jobs/queue.ts';
import { newId } from '../ids.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

const row = (dedupeKey: string): IngestRow => {
  const id = newId('whk');
  return {
    webhook: {
      id,
      provider: 'flutterwave',
      mode: 'test',
      dedupe_key: dedupeKey,
      event_type: 'charge.completed',
      provider_reference: null,
      signature_scheme: 'test',
      body: '{}',
      received_at: 1,
      status: 'received',
      result: null,
      processed_at: null,
    },
    job: buildJobRow({ kind: 'process_provider_webhook', payload: { webhookId: id } }, 1),
  };
};

test('the batcher groups concurrent submissions and answers each caller', async () => {
  const batches: number[][] = [];
  const batcher = createBatcher<number, number>(async (items) => {
    batches.push(items);
    return items.map((n) => n * 2);
  });
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)));
  assert.deepEqual(results, [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
  assert.equal(batches.length, 1, 'submitted together, written together');
});

test('a failing batch is retried item by item, so only the bad item fails', async () => {
  const batcher = createBatcher<number, number>(async (items) => {
    if (items.includes(3)) throw new Error('bad item');
    return items;
  });
  const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => batcher.submit(n)));
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
});

for (const dialect of await testDialects()) {
  describe(`ingest batch writes on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());

    test('new webhooks are written with their jobs; duplicates (in the batch or already stored) are not', async () => {
      await database.dialect.writeIngestBatch(database.db, [row('k:1')]);
      const result = await database.dialect.writeIngestBatch(database.db, [
        row('k:1'),
        row('k:2'),
        row('k:2'),
        row('k:3'),
      ]);
      assert.deepEqual(result, [false, true, false, true]);
      const webhooks = await database.db.selectFrom('provider_webhooks').select(['id', 'dedupe_key']).execute();
      assert.deepEqual(webhooks.map((w) => w.dedupe_key).sort(), ['k:1', 'k:2', 'k:3']);
      const jobs = await database.db.selectFrom('jobs').select('payload_json').execute();
      assert.deepEqual(
        jobs.map((j) => JSON.parse(j.payload_json).webhookId).sort(),
        webhooks.map((w) => w.id).sort(),
        'exactly one job per stored webhook',
      );
    });

    test('through the batcher, 200 concurrent writes of 100 keys store each key once', async () => {
      const batcher = createBatcher<IngestRow, boolean>((rows) => database.dialect.writeIngestBatch(database.db, rows));
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => batcher.submit(row(`c:${i % 100}`))));
      assert.equal(results.filter(Boolean).length, 100);
      const stored = await database.db
        .selectFrom('provider_webhooks')
        .select('id')
        .where('dedupe_key', 'like', 'c:%')
        .execute();
      assert.equal(stored.length, 100);
    });

    test('the batch writer interleaves safely with ordinary transactions on the same database', async () => {
      const work = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? database.dialect.writeIngestBatch(database.db, [row(`mix:${i}`)])
          : database.db.transaction().execute(async (trx) => {
              await trx
                .insertInto('events')
                .values({
                  id: newId('evt'),
                  mode: 'test',
                  type: 't',
                  object_id: `o${i}`,
                  data_json: '{}',
                  created_at: i,
                })
                .execute();
              return [true];
            }),
      );
      await Promise.all(work);
      assert.equal(
        (await database.db.selectFrom('provider_webhooks').select('id').where('dedupe_key', 'like', 'mix:%').execute())
          .length,
        10,
      );
      assert.equal(
        (await database.db.selectFrom('events').select('id').where('object_id', 'like', 'o%').execute()).length,
        10,
      );
    });
  });
}
