// Group commit: concurrent requests that each need a small durable write are gathered into one
// batch and written by one transaction, so one fsync acknowledges many of them. Each caller gets
// its own result, and none is answered before the transaction holding its write has committed.
//
// While a batch is being written, new items queue up and form the next batch, so the batch size
// adapts to load by itself: a lone request is written at once, 32 concurrent ones share commits.
export interface Batcher<I, R> {
  submit(item: I): Promise<R>;
}

export function createBatcher<I, R>(flush: (items: I[]) => Promise<R[]>, options: { maxBatch?: number; flushOne?: (item: I) => Promise<R> } = {}): Batcher<I, R> {
  const maxBatch = options.maxBatch ?? 256;
  let queue: Array<{ item: I; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  let writing = false;

  async function run(): Promise<void> {
    if (writing || queue.length === 0) return;
    writing = true;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      const results = await flush(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as R));
    } catch (error) {
      // One bad item must not fail its neighbours: write each alone, so only it sees its error.
      for (const b of batch) {
        try {
          b.resolve(options.flushOne === undefined ? ((await flush([b.item]))[0] as R) : await options.flushOne(b.item));
        } catch (itemError) {
          b.reject(batch.length === 1 ? error : itemError);
        }
      }
    } finally {
      writing = false;
      if (queue.length > 0) setImmediate(() => void run());
    }
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Wait one turn of the event loop so requests that arrived together join one batch.
        if (queue.length === 1 && !writing) setImmediate(() => void run());
      });
    },
  };
}
