import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { MIGRATION_NAMES, migrateToLatest } from './migrate.ts';
import { openDatabase } from './database.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { POSTGRES_URL } from '../../test/helpers/services.ts';

// The race itself, for real: while another connection keeps creating and dropping schemas in the
// same database (as parallel test files, or other deployments, do), every migration still succeeds.
const postgres = (await testDialects()).find((d) => d.name === 'postgres')!;
test('migrations succeed while other schemas are dropped around them (PostgreSQL)', {
  skip: postgres.skip,
}, async () => {
  const churn = new pg.Client({ connectionString: POSTGRES_URL });
  await churn.connect();
  let stop = false;
  const churning = (async () => {
    for (let i = 0; !stop; i += 1) {
      const schema = `churn_${process.pid}_${i}`;
      await churn.query(`create schema ${schema}; create table ${schema}.t (a int, b int, c int)`);
      await churn.query(`drop schema ${schema} cascade`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  try {
    for (let run = 0; run < 8; run += 1) {
      const { url, cleanup } = await postgres.create();
      const handle = openDatabase(url, { poolSize: 2 });
      try {
        assert.deepEqual(await migrateToLatest(handle), MIGRATION_NAMES, 'every migration ran, in order');
      } finally {
        await handle.close();
        await cleanup();
      }
    }
  } finally {
    stop = true;
    await churning;
    await churn.end();
  }
});
