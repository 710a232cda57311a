// Preloaded into the soak's gateway only (`node --import bench/soak-probe.ts src/main.ts start`),
// never part of the gateway itself: every SOAK_PROBE_MS it writes the thread's
// process.memoryUsage() and V8 heap figures to $SOAK_PROBE_DIR/<main|thread-N>.json, which the
// soak driver reads from outside. Worker threads inherit --import, so the SQLite thread reports
// its own V8 heap too (the gateway's /metrics covers the main thread's heap only).
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const dir = process.env.SOAK_PROBE_DIR;
if (dir !== undefined) {
  const file = join(dir, isMainThread ? 'main.json' : `thread-${threadId}.json`);
  const write = () => {
    const usage = process.memoryUsage();
    const heap = getHeapStatistics();
    // Written aside and renamed, so the soak never reads half a file.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({
        at: Date.now(),
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        mallocedMemory: heap.malloced_memory,
        // The young generation, which V8 sizes between 16 and 128 MiB as allocation goes.
        newSpace: getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0,
      }),
    );
    renameSync(`${file}.tmp`, file);
  };
  write();
  setInterval(write, Number(process.env.SOAK_PROBE_MS ?? 1000)).unref();
}
