// The SQLite thread. better-sqlite3 is synchronous: on the event loop, every COMMIT's fsync
// (synchronous=FULL) would stop the whole process, including the parsing of the requests that
// should join the next group commit. Here the disk waits happen beside the event loop, which
// keeps accepting and verifying webhooks while the previous batch is made durable.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { INGEST_COLUMNS, type QueryOutcome, type Request, type Response } from './protocol.ts';

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

const insertSql = (table: string, columns: readonly string[], suffix = '') => `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})${suffix}`;
const WEBHOOK_VALUES = INGEST_COLUMNS.webhook.length;

/** A row as it crosses from the event loop: values in the order of INGEST_COLUMNS. */
type IngestValues = readonly unknown[];

let ingest: ((rows: readonly IngestValues[]) => boolean[]) | undefined;
function ingestBatch(rows: readonly IngestValues[]): boolean[] {
  // Prepared on first use: the tables exist only once migrations have run.
  if (ingest === undefined) {
    const insertWebhook = database.prepare(insertSql('provider_webhooks', INGEST_COLUMNS.webhook, ' on conflict (dedupe_key) do nothing'));
    const insertJob = database.prepare(insertSql('jobs', INGEST_COLUMNS.job));
    ingest = database.transaction((batch: readonly IngestValues[]) =>
      batch.map((values) => {
        if (insertWebhook.run(values.slice(0, WEBHOOK_VALUES)).changes === 0) return false;
        insertJob.run(values.slice(WEBHOOK_VALUES));
        return true;
      }),
    );
  }
  return ingest(rows);
}

// Ingest batches do not take Kysely's connection lock (so the next batch can be queued here while
// this one commits). One must never run inside a transaction Kysely has open, though, or it would
// commit or roll back with it: such batches wait here until that transaction ends.
const deferred: IngestRequest[] = [];
type IngestRequest = Extract<Request, { op: 'ingest' }>;

function respond(request: Request, run: () => unknown): void {
  let response: Response;
  try {
    response = { id: request.id, ok: true, result: run() };
  } catch (error) {
    response = failure(request, error);
  }
  parentPort!.postMessage(response);
}

function failure(request: Request, error: unknown): Response {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  return { id: request.id, ok: false, error: { message: error instanceof Error ? error.message : String(error), code } };
}

/** Every ingest batch waiting here becomes one transaction (one fsync), answered batch by batch. */
function writeIngests(requests: readonly IngestRequest[]): void {
  if (requests.length === 0) return;
  if (database.inTransaction) {
    deferred.push(...requests);
    return;
  }
  const batches = requests.map((request) => JSON.parse(request.rowsJson) as IngestValues[]);
  if (requests.length > 1) {
    try {
      const results = ingestBatch(batches.flat());
      let offset = 0;
      requests.forEach((request, i) => {
        parentPort!.postMessage({ id: request.id, ok: true, result: results.slice(offset, (offset += batches[i]!.length)) } satisfies Response);
      });
      return;
    } catch {
      // One bad batch must not fail the others: each is written again alone and sees only its error.
    }
  }
  requests.forEach((request, i) => respond(request, () => ingestBatch(batches[i]!)));
}

let closed = false;
function handle(requests: readonly Request[]): void {
  let ingests: IngestRequest[] = [];
  for (const request of requests) {
    if (closed) return;
    if (request.op === 'ingest') {
      ingests.push(request);
      continue;
    }
    // Whatever came before a query is written before it, so the order of arrival still holds.
    writeIngests(ingests);
    ingests = [];
    if (request.op === 'close') {
      closed = true;
      database.close();
      parentPort!.postMessage({ id: request.id, ok: true, result: null } satisfies Response);
      parentPort!.close();
      return;
    }
    respond(request, () => query(request.sql, request.parameters));
    if (!database.inTransaction) writeIngests(deferred.splice(0));
  }
  writeIngests(ingests);
}

// Group commit on this side too: the messages that arrived while the last commit was running are
// taken off the port at once (receiveMessageOnPort), so their batches share the next transaction
// instead of each paying its own fsync, and the disk never waits for the event loop to hand over
// the next batch.
parentPort!.on('message', (first: Request) => {
  const requests = [first];
  for (let next = receiveMessageOnPort(parentPort!); next !== undefined; next = receiveMessageOnPort(parentPort!)) requests.push(next.message as Request);
  handle(requests);
});
