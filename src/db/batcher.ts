// Group commit: concurrent requests that each need a small durable write are gathered into one
// batch and written by one transaction, so one fsync acknowledges many of them. Each caller gets
// its own result, and none is answered before the transaction holding its write has committed.
//
// While a batch is being written, new items queue up and form the next batch, so the batch size
// adapts to load by itself: a lone request is written at once, 32 concurrent ones share commits.
export interface Batcher<I, R> {
  submit(item: I): Promise<R>;
}

export function createBatcher<I, R>(
  flush: (items: I[]) => Promise<R[]>,
  options: { maxBatch?: number; maxInFlight?: number; flushOne?: (item: I) => Promise<R> } = {},
): Batcher<I, R> {
  const maxBatch = options.maxBatch ?? 256;
  // More than one batch may be on its way to the database, so the writer always has the next
  // one waiting when a commit finishes (pipelining); batches still commit one after another.
  const maxInFlight = options.maxInFlight ?? 1;
  let queue: Array<{ item: I; resolve: (value: R) => void; reject: (error: unknown) => void }> = [];
  let inFlight = 0;
  let scheduled = false;

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    // Wait one turn of the event loop so requests that arrived together join one batch.
    setImmediate(() => {
      scheduled = false;
      void run();
    });
  }

  async function run(): Promise<void> {
    if (inFlight >= maxInFlight || queue.length === 0) return;
    inFlight += 1;
    const batch = queue.slice(0, maxBatch);
    queue = queue.slice(batch.length);
    try {
      const results = await flush(batch.map((b) => b.item));
      batch.forEach((b, i) => b.resolve(results[i] as R));
    } catch (error) {
      // One bad item must not fail its neighbours: write each alone, so only it sees its error.
      for (const b of batch) {
        try {
          b.resolve(
            options.flushOne === undefined ? ((await flush([b.item]))[0] as R) : await options.flushOne(b.item),
          );
        } catch (itemError) {
          b.reject(batch.length === 1 ? error : itemError);
        }
      }
    } finally {
      inFlight -= 1;
      if (queue.length > 0) schedule();
    }
  }

  return {
    submit(item) {
      return new Promise<R>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        schedule();
      });
    },
  };
}
