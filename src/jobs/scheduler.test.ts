import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../clock.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createLogger } from '../log.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { createJobQueue } from './queue.ts';
import { createScheduler, SCHEDULED_JOB } from './scheduler.ts';
import { createWorker } from './worker.ts';

const logger = createLogger('silent');
const PERIOD_MS = 30_000;

for (const dialect of await testDialects()) {
  describe(`scheduled work on ${dialect.name}: once per slot across processes`, { skip: dialect.skip }, () => {
    // Three gateway "processes": each its own connection (pool) to the one database, its own
    // queue, worker and scheduler, as three processes of a cluster have.
    let cleanup: () => Promise<void>;
    let handles: DatabaseHandle[];
    before(async () => {
      const created = await dialect.create();
      cleanup = created.cleanup;
      handles = [0, 1, 2].map(() => openDatabase(created.url, { poolSize: 3 }));
      await migrateToLatest(handles[0]!);
    });
    after(async () => {
      for (const handle of handles) await handle.close();
      await cleanup();
    });

    const cluster = (clock: ReturnType<typeof manualClock>, runs: Array<{ process: number; at: number }>) =>
      handles.map((handle, index) => {
        const queue = createJobQueue({ db: handle.db, dialect: handle.dialect, clock });
        const worker = createWorker({ queue, logger });
        const scheduler = createScheduler({
          db: handle.db,
          queue,
          clock,
          logger,
          worker,
          schedules: [
            {
              name: 'sweep',
              everyMs: PERIOD_MS,
              run: async () => void runs.push({ process: index, at: clock.nowMs() }),
            },
          ],
        });
        return { worker, scheduler };
      });

    test('three processes ticking together run each slot exactly once, whoever claims it', async () => {
      const clock = manualClock(Date.UTC(2026, 0, 1));
      const runs: Array<{ process: number; at: number }> = [];
      const processes = cluster(clock, runs);
      const SLOTS = 12;
      for (let slot = 0; slot < SLOTS; slot += 1) {
        // Every process ticks several times within the slot, concurrently.
        const enqueued = await Promise.all(processes.flatMap((p) => [p.scheduler.tick(), p.scheduler.tick()]));
        assert.equal(
          enqueued.reduce((a, b) => a + b, 0),
          1,
          `slot ${slot}: one process claims it`,
        );
        await Promise.all(processes.map((p) => p.worker.drain()));
        // Processes restarted within the slot (no memory of it) find it taken, though its job is done.
        const restarted = cluster(clock, runs);
        assert.deepEqual(await Promise.all(restarted.map((p) => p.scheduler.tick())), [0, 0, 0]);
        clock.advance(PERIOD_MS);
      }
      assert.equal(runs.length, SLOTS, 'one run per slot, not one per process');
      const atSlots = new Set(runs.map((r) => Math.floor(r.at / PERIOD_MS)));
      assert.equal(atSlots.size, SLOTS, 'every slot ran');
      const jobs = await handles[0]!.db.selectFrom('jobs').selectAll().where('kind', '=', SCHEDULED_JOB).execute();
      assert.equal(jobs.length, SLOTS);
      assert.ok(jobs.every((j) => j.status === 'done' && j.attempts === 1));
      await handles[0]!.db.deleteFrom('jobs').execute();
    });

    test('a slot whose previous run is still waiting adds no second copy; the waiting one runs once', async () => {
      const clock = manualClock(Date.UTC(2026, 1, 1));
      const runs: Array<{ process: number; at: number }> = [];
      const processes = cluster(clock, runs);
      assert.equal(await processes[0]!.scheduler.tick(), 1);
      clock.advance(PERIOD_MS);
      // Workers are behind: the next slot is claimed, but the queue still holds the first run.
      await Promise.all(processes.map((p) => p.scheduler.tick()));
      const queued = await handles[0]!.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', SCHEDULED_JOB)
        .where('status', '=', 'queued')
        .execute();
      assert.equal(queued.length, 1);
      await Promise.all(processes.map((p) => p.worker.drain()));
      assert.equal(runs.length, 1);
      await handles[0]!.db.deleteFrom('jobs').execute();
    });
  });
}
