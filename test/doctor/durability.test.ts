// db.durability on both databases: the gateway's own connections pass; a connection that would
// acknowledge commits before they reach the disk fails.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { systemClock } from '../../src/clock.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { sqliteStrategy } from '../../src/db/dialect.ts';
import type { Database } from '../../src/db/schema.ts';
import { databaseChecks } from '../../src/doctor/database-checks.ts';
import { openTestDatabase, testDialects } from '../helpers/databases.ts';

async function durabilityOf(database: DatabaseHandle): Promise<string> {
  const results = await databaseChecks({ database, nowMs: systemClock.nowMs(), liveEnabled: true });
  return results.find((r) => r.check === 'db.durability')?.status ?? 'missing';
}

const dialects = await testDialects();
const postgres = dialects[1];

for (const dialect of dialects) {
  describe(`db.durability on ${dialect.name}`, { skip: dialect.skip }, () => {
    test("the gateway's own connection passes", async () => {
      const database = await openTestDatabase(dialect);
      try {
        assert.equal(await durabilityOf(database), 'pass');
      } finally {
        await database.close();
      }
    });
  });
}

describe('db.durability faults', () => {
  test('SQLite opened with synchronous=NORMAL (another tool, an older build): fails', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-durability-'));
    const native = new BetterSqlite3(join(dir, 'db.sqlite'));
    native.pragma('journal_mode = WAL');
    native.pragma('synchronous = NORMAL');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: native }) });
    const handle: DatabaseHandle = {
      db,
      dialect: sqliteStrategy(
        async () => [],
        async () => undefined,
      ),
      description: 'sqlite:test',
      close: () => db.destroy(),
    };
    try {
      await migrateToLatest(handle);
      assert.equal(await durabilityOf(handle), 'fail');
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('PostgreSQL with synchronous_commit=off (as ALTER ROLE ... SET would leave it): fails', {
    skip: postgres!.skip,
  }, async () => {
    const created = await postgres!.create();
    const url = new URL(created.url);
    url.searchParams.set('options', `${url.searchParams.get('options')} -c synchronous_commit=off`);
    const handle = openDatabase(url.toString(), { poolSize: 1 });
    try {
      await migrateToLatest(handle);
      assert.equal(await durabilityOf(handle), 'fail');
    } finally {
      await handle.close();
      await created.cleanup();
    }
  });
});
