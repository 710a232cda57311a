// Everything a database holds, read directly as an attacker with the files would: the SQLite file
// and its WAL as bytes, or every row of every table of the PostgreSQL schema as text. Tests of
// data at rest search it for values that must never be stored in the clear.
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { DatabaseHandle } from '../../src/db/database.ts';

export async function storedText(database: DatabaseHandle, sqliteFile: string): Promise<string> {
  if (database.dialect.name === 'sqlite')
    return [sqliteFile, `${sqliteFile}-wal`]
      .filter((f) => existsSync(f))
      .map((f) => readFileSync(f).toString('latin1'))
      .join('\n');
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = current_schema()`.execute(database.db);
  const dumps: string[] = [];
  for (const { table_name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(table_name)} t`.execute(database.db);
    dumps.push(...rows.rows.map((r) => r.row));
  }
  return dumps.join('\n');
}
