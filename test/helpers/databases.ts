// Every storage-touching test runs on both dialects: SQLite always, PostgreSQL whenever it is
// reachable (always in CI). Each test gets its own SQLite file or its own PostgreSQL schema, so
// tests run in parallel without seeing each other's rows.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBase62 } from '../../src/ids.ts';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { POSTGRES_URL, skipUnless, postgresUnavailable } from './services.ts';

export interface TestDialect {
  readonly name: 'sqlite' | 'postgres';
  /** false, or why the dialect is skipped here. */
  readonly skip: false | string;
  /** A fresh, empty database URL and its cleanup. */
  create(): Promise<{ url: string; cleanup(): Promise<void> }>;
}

const sqlite: TestDialect = {
  name: 'sqlite',
  skip: false,
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-test-'));
    return { url: join(dir, 'test.sqlite'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
  },
};

const postgres = (skip: false | string): TestDialect => ({
  name: 'postgres',
  skip,
  async create() {
    const schema = `t_${randomBase62(12).toLowerCase()}`;
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      url: url.toString(),
      async cleanup() {
        const client = new pg.Client({ connectionString: POSTGRES_URL });
        await client.connect();
        await client.query(`drop schema if exists ${schema} cascade`);
        await client.end();
      },
    };
  },
});

export async function testDialects(): Promise<TestDialect[]> {
  return [sqlite, postgres(await skipUnless(postgresUnavailable))];
}

/** A migrated database for a unit of storage tests; call `close` in `after`. */
export async function openTestDatabase(dialect: TestDialect): Promise<DatabaseHandle & { close(): Promise<void> }> {
  const { url, cleanup } = await dialect.create();
  const handle = openDatabase(url, { poolSize: 4 });
  await migrateToLatest(handle);
  return {
    ...handle,
    async close() {
      await handle.close();
      await cleanup();
    },
  };
}
