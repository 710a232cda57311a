// `node bench/sync-roundtrip.ts`: the cost of one statement inside a transaction on the SQLite
// thread (driver.ts `requestSync`): ROUNDTRIP_STATEMENTS (default 20,000) small selects in one
// Kysely transaction, timed as a whole, with the event loop's CPU time beside the wall time (the
// difference is the wait for the thread). A microbenchmark of the hand-off, for A/B comparisons.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql } from 'kysely';
import { SqliteThread, ThreadedSqliteDialect } from '../src/db/sqlite-thread/driver.ts';

const STATEMENTS = Number(process.env.ROUNDTRIP_STATEMENTS ?? 20_000);
const dir = mkdtempSync(join(tmpdir(), 'paywarden-roundtrip-'));
const thread = new SqliteThread(join(dir, 'roundtrip.sqlite'));
const db = new Kysely<Record<string, never>>({ dialect: new ThreadedSqliteDialect(thread) });
try {
  await sql`create table t (id integer primary key, v text)`.execute(db);
  for (let round = 0; round < 3; round += 1) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < STATEMENTS; i += 1) await sql`select ${i} as v`.execute(trx);
    });
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    console.log(
      `round ${round + 1}: ${((1000 * wallMs) / STATEMENTS).toFixed(1)} µs per statement (wall), ` +
        `${((1000 * cpuMs) / STATEMENTS).toFixed(1)} µs of the process's CPU (both threads)`,
    );
  }
} finally {
  await db.destroy();
  await thread.close();
  rmSync(dir, { recursive: true, force: true });
}
