import type { Logger } from 'pino';
import type { JobRow } from '../db/schema.ts';
import { createBatcher } from '../db/batcher.ts';
import { backoffDelayMs } from './backoff.ts';
import type { JobQueue } from './queue.ts';

/** A handler's way to say "not now, the answer was indefinite": the job runs again later. */
export class RetryLater extends Error {
  readonly retryAfterMs: number | undefined;
  constructor(reason: string, retryAfterMs?: number) {
    super(reason);
    this.retryAfterMs = retryAfterMs;
  }
}

/** A handler's way to say "this can never succeed": the job is marked dead at once, visibly. */
export class PermanentFailure extends Error {}

export type JobHandler = (payload: Record<string, unknown>, job: JobRow) => Promise<void>;

export interface WorkerOptions {
  readonly concurrency: number;
  readonly leaseMs: number;
  readonly pollIntervalMs: number;
  readonly backoffBaseMs: number;
  readonly backoffCapMs: number;
}

// Jobs mostly wait (for a commit, a provider, a merchant endpoint), so throughput is jobs in flight
// divided by their latency: 8 processed a burst of webhooks at a fifth of the rate they arrived
// (bench/README.md), 32 kept up. Outbound calls stay bounded by each provider's budget.
export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  concurrency: 32,
  leaseMs: 60_000,
  pollIntervalMs: 250,
  backoffBaseMs: 2_000,
  backoffCapMs: 3_600_000,
};

export interface Worker {
  register(kind: string, handler: JobHandler): void;
  /** Claims and runs one batch; resolves to the number of jobs run. Tests call this directly. */
  processNext(): Promise<number>;
  /** Runs batches until none is ready (jobs scheduled for later stay queued). */
  drain(maxBatches?: number): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

export function createWorker(deps: {
  queue: JobQueue;
  logger: Logger;
  options?: Partial<WorkerOptions>;
  onDead?: (job: JobRow, error: string) => void;
  /** A failed attempt that will be retried (MON-1 counts them). */
  onFailedAttempt?: (job: JobRow, error: string) => void;
}): Worker {
  const options = { ...DEFAULT_WORKER_OPTIONS, ...deps.options };
  const handlers = new Map<string, JobHandler>();
  const log = deps.logger.child({ component: 'worker' });
  let running = false;
  let inFlight = 0;
  // Whoever sleeps (the running loop) is woken by new work, a finished job or stop().
  const sleepers = new Set<() => void>();
  const active = new Set<Promise<void>>();

  /** Runs one job; resolves true when it finished (to be marked done with its batch). */
  async function run(job: JobRow): Promise<boolean> {
    const handler = handlers.get(job.kind);
    if (handler === undefined) {
      await deps.queue.kill(job.id, `no handler for job kind ${job.kind}`);
      return false;
    }
    try {
      await handler(JSON.parse(job.payload_json) as Record<string, unknown>, job);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PermanentFailure || job.attempts >= job.max_attempts) {
        log.error(
          { alert: 'job_dead', jobId: job.id, kind: job.kind, attempts: job.attempts, err: message },
          'job is dead and needs attention',
        );
        await deps.queue.kill(job.id, message);
        deps.onDead?.(job, message);
        return false;
      }
      const backoff = backoffDelayMs(job.attempts, options.backoffBaseMs, options.backoffCapMs);
      const delay = error instanceof RetryLater ? Math.max(backoff, error.retryAfterMs ?? 0) : backoff;
      if (!(error instanceof RetryLater))
        log.warn({ jobId: job.id, kind: job.kind, err: message }, 'job failed; will retry');
      await deps.queue.reschedule(job.id, delay, message);
      deps.onFailedAttempt?.(job, message);
      return false;
    }
  }

  // Finished jobs are marked done together: one statement (one commit) for all that finish in
  // the same turn. A crash before it only means they run again after their lease, which every
  // handler tolerates.
  const completions = createBatcher<string, void>(async (ids) => {
    await deps.queue.complete(ids);
    return ids.map(() => undefined);
  });

  async function processNext(): Promise<number> {
    const free = options.concurrency - inFlight;
    if (free <= 0) return 0;
    const jobs = await deps.queue.claim(free, options.leaseMs);
    inFlight += jobs.length;
    try {
      const finished = await Promise.all(jobs.map(run));
      // One commit marks the whole batch done.
      await deps.queue.complete(jobs.filter((_, i) => finished[i]).map((j) => j.id));
    } finally {
      inFlight -= jobs.length;
    }
    return jobs.length;
  }

  /** One job of the running loop: run, then marked done with whatever else finished with it. */
  async function runAndComplete(job: JobRow): Promise<void> {
    try {
      if (await run(job)) await completions.submit(job.id);
    } catch (error) {
      log.error(
        { jobId: job.id, err: error instanceof Error ? error.message : String(error) },
        'job bookkeeping failed',
      );
    } finally {
      inFlight -= 1;
      wakeAll();
    }
  }

  // The running worker keeps `concurrency` jobs in flight: whenever jobs finish, their slots are
  // filled by the next claim, without waiting for the rest of the batch they were claimed with.
  // (Claiming a batch and waiting for all of it held every slot for the slowest job of the
  // batch: on SQLite, the last of 32 transactions that run one after another.)
  async function loop(): Promise<void> {
    while (running) {
      const free = options.concurrency - inFlight;
      let claimed = 0;
      if (free > 0) {
        try {
          const jobs = await deps.queue.claim(free, options.leaseMs);
          claimed = jobs.length;
          inFlight += jobs.length;
          for (const job of jobs) {
            const p = runAndComplete(job).finally(() => active.delete(p));
            active.add(p);
          }
        } catch (error) {
          log.error({ err: error instanceof Error ? error.message : String(error) }, 'job loop error');
        }
      }
      if (!running) break;
      // Full: sleep until a job finishes. Nothing ready: until new work is enqueued or the poll
      // interval passes. Otherwise claim again at once (more may be ready than there were slots).
      if (free <= 0 || claimed === 0)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(wakeUp, options.pollIntervalMs);
          function wakeUp() {
            clearTimeout(timer);
            sleepers.delete(wakeUp);
            resolve();
          }
          sleepers.add(wakeUp);
        });
      // Let the jobs that finish in this turn free their slots first, so one claim fills them all.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  const wakeAll = () => {
    for (const wakeUp of [...sleepers]) wakeUp();
  };
  deps.queue.onEnqueued(wakeAll);

  return {
    register(kind, handler) {
      handlers.set(kind, handler);
    },
    processNext,
    async drain(maxBatches = 1000) {
      let total = 0;
      for (let i = 0; i < maxBatches; i += 1) {
        const ran = await processNext();
        if (ran === 0) break;
        total += ran;
      }
      return total;
    },
    start() {
      if (running) return;
      running = true;
      const p = loop().finally(() => active.delete(p));
      active.add(p);
    },
    async stop() {
      running = false;
      wakeAll();
      // The loop and every job it started (a job started while waiting here is waited for too).
      while (active.size > 0) await Promise.all([...active]);
    },
  };
}
