// Periodic work (reconciliation sweeps, purges) that must run once per period across the cluster,
// not once per process. Time is cut into slots of each schedule's period; every worker process
// ticks, and the first to insert a slot's row into `scheduled_runs` enqueues that slot's job in
// the same transaction. The others' inserts find the row and do nothing, so N processes run each
// slot once; the job is durable, so a process that dies after claiming a slot loses nothing (any
// worker runs it after its lease). While a schedule's previous job is still queued or running,
// the new slot enqueues nothing (the job's dedupe key), so a slow sweep never piles up copies.
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { JobQueue } from './queue.ts';
import { PermanentFailure, type Worker } from './worker.ts';

export const SCHEDULED_JOB = 'run_schedule';

export interface Schedule {
  readonly name: string;
  readonly everyMs: number;
  run(): Promise<unknown>;
}

export interface Scheduler {
  /** Claims the current slot of every schedule whose slot changed; resolves to how many it enqueued. */
  tick(): Promise<number>;
  start(): void;
  stop(): void;
}

// Slot rows are kept this many periods back (what `paywarden` operators may want to look at),
// then deleted by the process that claims a newer slot.
const KEEP_SLOTS = 1_000;

export function createScheduler(deps: {
  db: Db;
  queue: JobQueue;
  clock: Clock;
  logger: Logger;
  worker: Worker;
  schedules: readonly Schedule[];
}): Scheduler {
  const byName = new Map(deps.schedules.map((s) => [s.name, s]));
  const lastSlot = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let ticking = false;

  deps.worker.register(SCHEDULED_JOB, async (payload) => {
    const schedule = byName.get(String(payload.name));
    // A process of another version may have enqueued a schedule this one does not know.
    if (schedule === undefined) throw new PermanentFailure(`unknown schedule ${String(payload.name)}`);
    await schedule.run();
  });

  async function claim(schedule: Schedule, slot: number): Promise<boolean> {
    return deps.db.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('scheduled_runs')
        .values({ name: schedule.name, slot, created_at: deps.clock.nowMs() })
        .onConflict((oc) => oc.columns(['name', 'slot']).doNothing())
        .returning('slot')
        .executeTakeFirst();
      if (inserted === undefined) return false;
      await deps.queue.enqueue(trx, {
        kind: SCHEDULED_JOB,
        payload: { name: schedule.name, slot },
        dedupeKey: `schedule:${schedule.name}`,
        maxAttempts: 3,
      });
      await trx
        .deleteFrom('scheduled_runs')
        .where('name', '=', schedule.name)
        .where('slot', '<', slot - KEEP_SLOTS)
        .execute();
      return true;
    });
  }

  async function tick(): Promise<number> {
    const now = deps.clock.nowMs();
    let enqueued = 0;
    for (const schedule of deps.schedules) {
      const slot = Math.floor(now / schedule.everyMs);
      if (lastSlot.get(schedule.name) === slot) continue;
      if (await claim(schedule, slot)) enqueued += 1;
      lastSlot.set(schedule.name, slot);
    }
    if (enqueued > 0) deps.queue.notify();
    return enqueued;
  }

  return {
    tick,
    start() {
      if (timer !== undefined || deps.schedules.length === 0) return;
      const tickMs = Math.min(1_000, ...deps.schedules.map((s) => s.everyMs));
      const run = () => {
        if (ticking) return;
        ticking = true;
        tick()
          .catch((error: unknown) =>
            deps.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'scheduler tick failed'),
          )
          .finally(() => {
            ticking = false;
          });
      };
      timer = setInterval(run, tickMs);
      timer.unref();
      run();
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
    },
  };
}
