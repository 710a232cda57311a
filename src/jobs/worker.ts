import type { Logger } from 'pino';
import type { JobRow } from '../db/schema.ts';
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
  // One waker per idle loop: new work or stop() must reach every loop, not only the last to sleep.
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

  async function processNext(): Promise<number> {
    const free = options.concurrency - inFlight;
    if (free <= 0) return 0;
    const jobs = await deps.queue.claim(free, options.leaseMs);
    inFlight += jobs.length;
    try {
      const finished = await Promise.all(jobs.map(run));
      // One commit marks the whole batch done. A crash before it only means these jobs run
      // again after their lease, which every handler tolerates.
      await deps.queue.complete(jobs.filter((_, i) => finished[i]).map((j) => j.id));
    } finally {
      inFlight -= jobs.length;
    }
    return jobs.length;
  }

  async function loop(): Promise<void> {
    while (running) {
      let ran = 0;
      try {
        ran = await processNext();
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, 'job loop error');
      }
      if (ran === 0 && running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(wakeUp, options.pollIntervalMs);
          function wakeUp() {
            clearTimeout(timer);
            sleepers.delete(wakeUp);
            resolve();
          }
          sleepers.add(wakeUp);
        });
      }
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
      // Several loops give concurrency for slow jobs (a provider call) without one loop blocking others.
      for (let i = 0; i < Math.max(1, Math.min(options.concurrency, 4)); i += 1) {
        const p = loop().finally(() => active.delete(p));
        active.add(p);
      }
    },
    async stop() {
      running = false;
      wakeAll();
      await Promise.all([...active]);
    },
  };
}
