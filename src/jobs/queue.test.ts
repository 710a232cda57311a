import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../clock.ts';
import { createJobQueue } from './queue.ts';
import { createWorker, PermanentFailure, RetryLater } from './worker.ts';
import { createLogger } from '../log.ts';
import { Registry } from 'prom-client';
import { registerQueueMetrics } from './queue-metrics.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

const logger = createLogger('silent');

for (const dialect of await testDialects()) {
  describe(`job queue on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());

    const setup = async () => {
      await database.db.deleteFrom('jobs').execute();
      const clock = manualClock();
      const queue = createJobQueue({ db: database.db, dialect: database.dialect, clock });
      return { clock, queue };
    };

    test('a job runs once, then is done', async () => {
      const { clock, queue } = await setup();
      const worker = createWorker({ queue, logger });
      const seen: unknown[] = [];
      worker.register('echo', async (payload) => void seen.push(payload));
      await queue.enqueue(database.db, { kind: 'echo', payload: { n: 1 } });
      assert.equal(await worker.drain(), 1);
      assert.deepEqual(seen, [{ n: 1 }]);
      assert.equal(await worker.drain(), 0);
      const row = await database.db.selectFrom('jobs').selectAll().executeTakeFirstOrThrow();
      assert.equal(row.status, 'done');
      void clock;
    });

    test('run_at in the future is not claimed until it is due', async () => {
      const { clock, queue } = await setup();
      await queue.enqueue(database.db, { kind: 'later', payload: {}, runAtMs: clock.nowMs() + 10_000 });
      assert.equal((await queue.claim(10, 1000)).length, 0);
      clock.advance(10_000);
      assert.equal((await queue.claim(10, 1000)).length, 1);
    });

    test('an expired lease (a worker that died) makes the job claimable again, with the attempt counted', async () => {
      const { clock, queue } = await setup();
      await queue.enqueue(database.db, { kind: 'k', payload: {} });
      const [first] = await queue.claim(1, 5_000);
      assert.equal(first?.attempts, 1);
      assert.equal((await queue.claim(1, 5_000)).length, 0, 'a leased job is not handed out twice');
      clock.advance(5_001);
      const [again] = await queue.claim(1, 5_000);
      assert.equal(again?.id, first?.id);
      assert.equal(again?.attempts, 2);
    });

    test('a dedupe key allows one live job; once done, the key is free again', async () => {
      const { queue } = await setup();
      await queue.enqueue(database.db, { kind: 'verify', payload: {}, dedupeKey: 'verify:pay_1' });
      await queue.enqueue(database.db, { kind: 'verify', payload: {}, dedupeKey: 'verify:pay_1' });
      const claimed = await queue.claim(10, 1000);
      assert.equal(claimed.length, 1);
      await queue.enqueue(database.db, { kind: 'verify', payload: {}, dedupeKey: 'verify:pay_1' });
      assert.equal(
        (await database.db.selectFrom('jobs').select('id').execute()).length,
        1,
        'running job still holds the key',
      );
      await queue.complete([claimed[0]!.id]);
      await queue.enqueue(database.db, { kind: 'verify', payload: {}, dedupeKey: 'verify:pay_1' });
      assert.equal(
        (await database.db.selectFrom('jobs').select('id').where('status', '=', 'queued').execute()).length,
        1,
      );
    });

    test('RetryLater reschedules with backoff no shorter than Retry-After; PermanentFailure and exhausted attempts are dead', async () => {
      const { clock, queue } = await setup();
      const dead: string[] = [];
      const worker = createWorker({
        queue,
        logger,
        options: { backoffBaseMs: 1000, backoffCapMs: 60_000 },
        onDead: (job) => dead.push(job.kind),
      });
      worker.register('indefinite', async () => {
        throw new RetryLater('provider timed out', 30_000);
      });
      worker.register('broken', async () => {
        throw new PermanentFailure('cannot ever work');
      });
      worker.register('flaky', async () => {
        throw new Error('boom');
      });
      await queue.enqueue(database.db, { kind: 'indefinite', payload: {} });
      await queue.enqueue(database.db, { kind: 'broken', payload: {} });
      await queue.enqueue(database.db, { kind: 'flaky', payload: {}, maxAttempts: 2 });
      await worker.drain();
      const rows = await database.db.selectFrom('jobs').selectAll().execute();
      const byKind = Object.fromEntries(rows.map((r) => [r.kind, r]));
      assert.equal(byKind.indefinite?.status, 'queued');
      assert.ok((byKind.indefinite?.run_at ?? 0) >= clock.nowMs() + 30_000, 'Retry-After honoured');
      assert.equal(byKind.broken?.status, 'dead');
      assert.match(byKind.broken?.last_error ?? '', /cannot ever work/);
      assert.equal(byKind.flaky?.status, 'queued');
      clock.advance(3_600_000);
      await worker.drain();
      const flaky = await database.db
        .selectFrom('jobs')
        .selectAll()
        .where('kind', '=', 'flaky')
        .executeTakeFirstOrThrow();
      assert.equal(flaky.status, 'dead', 'dead after max attempts, visible with its error');
      assert.equal(flaky.attempts, 2);
      assert.deepEqual(
        dead.sort(),
        ['broken', 'flaky'],
        'every death is reported (the gateway counts them in paywarden_jobs_dead_total)',
      );
    });

    test('a started worker wakes every idle loop for new work and stops at once, not after its poll interval', async () => {
      const { queue } = await setup();
      const worker = createWorker({ queue, logger, options: { concurrency: 4, pollIntervalMs: 60_000 } });
      const seen: number[] = [];
      worker.register('echo', async (payload) => void seen.push(Number(payload.n)));
      worker.start();
      await new Promise((resolve) => setTimeout(resolve, 50)); // every loop finds nothing and sleeps
      for (let n = 0; n < 3; n += 1) await queue.enqueue(database.db, { kind: 'echo', payload: { n } });
      queue.notify();
      const deadline = Date.now() + 5_000;
      while (seen.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(seen.sort(), [0, 1, 2], 'woken by the enqueue, long before the 60 s poll');
      const started = Date.now();
      await worker.stop();
      assert.ok(Date.now() - started < 1_000, `stop took ${Date.now() - started} ms`);
    });

    test('concurrent claimers never receive the same job', async () => {
      const { queue } = await setup();
      for (let i = 0; i < 40; i += 1) await queue.enqueue(database.db, { kind: 'k', payload: { i } });
      const batches = await Promise.all(Array.from({ length: 8 }, () => queue.claim(10, 60_000)));
      const ids = batches.flat().map((j) => j.id);
      assert.equal(ids.length, 40);
      assert.equal(new Set(ids).size, 40);
    });

    test('the queue gauges on /metrics show the backlog by status and kind, the oldest ready job, and the dead', async () => {
      const { clock, queue } = await setup();
      const registry = new Registry();
      registerQueueMetrics({ registry, db: database.db, clock });
      const scrape = async () => registry.metrics();
      for (let i = 0; i < 3; i += 1) await queue.enqueue(database.db, { kind: 'echo', payload: { i } });
      await queue.enqueue(database.db, { kind: 'later', payload: {}, runAtMs: clock.nowMs() + 3_600_000 });
      await queue.enqueue(database.db, { kind: 'broken', payload: {} });
      const worker = createWorker({ queue, logger });
      worker.register('broken', async () => {
        throw new PermanentFailure('cannot ever work');
      });
      worker.register('echo', async () => undefined);
      clock.advance(30_000);
      let text = await scrape();
      assert.match(text, /paywarden_jobs\{status="queued",kind="echo"\} 3/);
      assert.match(text, /paywarden_jobs\{status="queued",kind="later"\} 1/);
      assert.match(text, /paywarden_jobs_oldest_ready_seconds 30\b/);
      await worker.drain();
      text = await scrape();
      assert.match(text, /paywarden_jobs\{status="dead",kind="broken"\} 1/);
      assert.match(text, /paywarden_jobs\{status="queued",kind="later"\} 1/);
      assert.doesNotMatch(text, /kind="echo"/, 'done jobs are not counted');
      assert.match(text, /paywarden_jobs_oldest_ready_seconds 0\b/, 'nothing due is waiting');
    });
  });
}
