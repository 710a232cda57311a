// The SQLite thread. better-sqlite3 is synchronous: on the event loop, every COMMIT's fsync
// (synchronous=FULL) would stop the whole process, including the parsing of the requests that
// should join the next group commit. Here the disk waits happen beside the event loop, which
// keeps accepting and verifying webhooks while the previous batch is made durable.
import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import type { IngestRow } from '../dialect.ts';
import type { QueryOutcome, Request, Response } from './protocol.ts';

const path = (workerData as { path: string }).path;
const database = new BetterSqlite3(path);
// WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every commit, so a
// write we acknowledged survives power loss, not only a process crash.
database.pragma('journal_mode = WAL');
database.pragma('synchronous = FULL');
database.pragma('foreign_keys = ON');
database.pragma('busy_timeout = 5000');
// A 64 MiB page cache keeps the hot index pages in memory as the tables grow.
database.pragma('cache_size = -65536');

// Our queries come from a fixed set of shapes: keep their prepared statements (bounded, LRU).
const statements = new Map<string, BetterSqlite3.Statement>();
function prepared(sql: string): BetterSqlite3.Statement {
  let statement = statements.get(sql);
  if (statement === undefined) {
    statement = database.prepare(sql);
    if (statements.size >= 500) statements.delete(statements.keys().next().value as string);
  } else {
    statements.delete(sql);
  }
  statements.set(sql, statement);
  return statement;
}

function query(sql: string, parameters: readonly unknown[]): QueryOutcome {
  const statement = prepared(sql);
  if (statement.reader) return { rows: statement.all(...parameters) };
  const { changes, lastInsertRowid } = statement.run(...parameters);
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}

const WEBHOOK_COLUMNS = ['id', 'provider', 'mode', 'dedupe_key', 'event_type', 'provider_reference', 'signature_scheme', 'body', 'received_at', 'status', 'result', 'processed_at'];
const JOB_COLUMNS = ['id', 'kind', 'payload_json', 'status', 'attempts', 'max_attempts', 'run_at', 'lease_until', 'last_error', 'dedupe_key', 'created_at', 'updated_at'];
const insertSql = (table: string, columns: readonly string[], suffix = '') => `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})${suffix}`;

let ingest: ((rows: readonly IngestRow[]) => boolean[]) | undefined;
function ingestBatch(rows: readonly IngestRow[]): boolean[] {
  // Prepared on first use: the tables exist only once migrations have run.
  if (ingest === undefined) {
    const insertWebhook = database.prepare(insertSql('provider_webhooks', WEBHOOK_COLUMNS, ' on conflict (dedupe_key) do nothing'));
    const insertJob = database.prepare(insertSql('jobs', JOB_COLUMNS));
    ingest = database.transaction((batch: readonly IngestRow[]) =>
      batch.map((row) => {
        if (insertWebhook.run(row.webhook).changes === 0) return false;
        insertJob.run(row.job);
        return true;
      }),
    );
  }
  return ingest(rows);
}

// Ingest batches do not take Kysely's connection lock (so the next batch can be queued here while
// this one commits). One must never run inside a transaction Kysely has open, though, or it would
// commit or roll back with it: such batches wait here until that transaction ends.
const deferred: Request[] = [];

function answer(request: Request, run: () => unknown): void {
  let response: Response;
  try {
    response = { id: request.id, ok: true, result: run() };
  } catch (error) {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
    response = { id: request.id, ok: false, error: { message: error instanceof Error ? error.message : String(error), code } };
  }
  parentPort!.postMessage(response);
}

parentPort!.on('message', (request: Request) => {
  if (request.op === 'close') {
    database.close();
    parentPort!.postMessage({ id: request.id, ok: true, result: null } satisfies Response);
    parentPort!.close();
    return;
  }
  if (request.op === 'ingest') {
    if (database.inTransaction) deferred.push(request);
    else answer(request, () => ingestBatch(JSON.parse(request.rowsJson) as IngestRow[]));
    return;
  }
  answer(request, () => query(request.sql, request.parameters));
  if (!database.inTransaction) {
    for (const waiting of deferred.splice(0)) if (waiting.op === 'ingest') answer(waiting, () => ingestBatch(JSON.parse(waiting.rowsJson) as IngestRow[]));
  }
});
