// Group commit: concurrent requests that each need a small durable write share one transaction,
// so one fsync acknowledges many of them. Each caller still gets its own result, and none is
// answered before the transaction holding its write has committed.
//
// While a batch is committing, new work queues up and forms the next batch, so the batch size
// adapts to load by itself: one request alone commits at once, 32 concurrent ones share commits.
import type { Db, Tx } from './schema.ts';

type Work<T> = (trx: Tx) => Promise<T>;
interface Pending {
  work: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface GroupCommitter {
  run<T>(work: Work<T>): Promise<T>;
}

export function createGroupCommitter(db: Db, options: { maxBatch?: number } = {}): GroupCommitter {
  const maxBatch = options.maxBatch ?? 256;
  let queue: Pending[] = [];
  let committing = false;

  async function flush(): Promise<void> {
    if (committing || queue.length === 0) return;
    committing = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      const results = await db.transaction().execute(async (trx) => {
        const out: unknown[] = [];
        for (const item of batch) out.push(await item.work(trx));
        return out;
      });
      batch.forEach((item, i) => item.resolve(results[i]));
    } catch {
      // One bad item must not fail its neighbours: replay each alone so only it sees its error.
      for (const item of batch) {
        try {
          item.resolve(await db.transaction().execute((trx) => item.work(trx)));
        } catch (error) {
          item.reject(error);
        }
      }
    } finally {
      committing = false;
      if (queue.length > 0) setImmediate(() => void flush());
    }
  }

  return {
    run<T>(work: Work<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ work: work as Work<unknown>, resolve: resolve as (value: unknown) => void, reject });
        // Wait one turn of the event loop so requests that arrived together join one batch.
        if (queue.length === 1 && !committing) setImmediate(() => void flush());
      });
    },
  };
}
