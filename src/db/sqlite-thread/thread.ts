// The SQLite thread. better-sqlite3 is synchronous: on the event loop, every COMMIT's fsync
// (synchronous=FULL) would stop the whole process, including the parsing of the requests that
// should join the next group commit. Here the disk waits happen beside the event loop, which
// keeps accepting and verifying webhooks while the previous group is made durable.
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { INGEST_COLUMNS, type QueryOutcome, type Request, type Response, type ThreadStats } from './protocol.ts';

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

function query(statement: BetterSqlite3.Statement, parameters: readonly unknown[]): QueryOutcome {
  if (statement.reader) return { rows: statement.all(...parameters) };
  const { changes, lastInsertRowid } = statement.run(...parameters);
  return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
}

const insertSql = (table: string, columns: readonly string[], suffix = '') =>
  `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})${suffix}`;
const WEBHOOK_VALUES = INGEST_COLUMNS.webhook.length;

/** A row as it crosses from the event loop: values in the order of INGEST_COLUMNS. */
type IngestValues = readonly unknown[];

let ingest: ((rows: readonly IngestValues[]) => boolean[]) | undefined;
function ingestBatch(rows: readonly IngestValues[]): boolean[] {
  // Prepared on first use: the tables exist only once migrations have run. Inside a group the
  // better-sqlite3 transaction is a savepoint, so a failing batch takes back only its own rows.
  if (ingest === undefined) {
    const insertWebhook = database.prepare(
      insertSql('provider_webhooks', INGEST_COLUMNS.webhook, ' on conflict (dedupe_key) do nothing'),
    );
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

function failure(id: number, error: unknown): Response {
  const code =
    typeof error === 'object' && error !== null && 'code' in error
      ? String((error as { code: unknown }).code)
      : undefined;
  return { id, ok: false, error: { message: error instanceof Error ? error.message : String(error), code } };
}

function outcomeOf(id: number, run: () => unknown): Response {
  try {
    return { id, ok: true, result: run() };
  } catch (error) {
    return failure(id, error);
  }
}

const send = (response: Response) => parentPort!.postMessage(response);

// Group commit for everything that stands alone: ingest batches and single statements from any
// caller (the job workers' claims and results, reads and writes outside a transaction). All that
// arrived together run in one transaction and are answered only after its commit, so each caller
// sees exactly what autocommit would have given it (its write durable when answered) for one fsync
// instead of one each. A statement that fails takes back only its own changes (SQLite undoes a
// failed statement, an ingest batch is a savepoint) and only its caller sees the error; if the
// whole transaction is lost (disk full, I/O error, a failed commit), every member runs again alone.
interface Member {
  readonly id: number;
  readonly run: () => unknown;
  response: Response;
}
let group: Member[] = [];
let groupOpen = false;
const stats = { groupCommits: 0, groupedRequests: 0, groupFallbacks: 0 } satisfies ThreadStats;
const begin = database.prepare('begin');
const commit = database.prepare('commit');
const rollback = database.prepare('rollback');

/** A Kysely transaction (begin ... commit from one caller) is open: nothing else may run inside it. */
const callerTransactionOpen = () => database.inTransaction && !groupOpen;

function addToGroup(id: number, run: () => unknown, writes: boolean): void {
  // A read before any write of the group sees only committed data: it needs no commit to wait for.
  if (!writes && !groupOpen) return send(outcomeOf(id, run));
  if (!groupOpen) {
    begin.run();
    groupOpen = true;
  }
  try {
    group.push({ id, run, response: { id, ok: true, result: run() } });
  } catch (error) {
    if (database.inTransaction) {
      group.push({ id, run, response: failure(id, error) });
      return;
    }
    // SQLite rolled the whole transaction back (it does for a full disk or an I/O error).
    runAlone([...group, { id, run, response: failure(id, error) }]);
  }
}

function commitGroup(): void {
  if (!groupOpen) return;
  const members = group;
  try {
    commit.run();
  } catch {
    if (database.inTransaction) rollback.run();
    runAlone(members);
    return;
  }
  group = [];
  groupOpen = false;
  stats.groupCommits += 1;
  stats.groupedRequests += members.length;
  for (const member of members) send(member.response);
}

function runAlone(members: readonly Member[]): void {
  group = [];
  groupOpen = false;
  stats.groupFallbacks += 1;
  for (const member of members) send(outcomeOf(member.id, member.run));
}

const GROUPABLE = /^\s*(select|insert|update|delete|with|replace)\b/i;

/** A statement or an ingest batch that is not part of a caller's transaction. */
function runStandalone(request: Extract<Request, { op: 'query' | 'ingest' }>): void {
  if (request.op === 'ingest') {
    const rows = JSON.parse(request.rowsJson) as IngestValues[];
    return addToGroup(request.id, () => ingestBatch(rows), true);
  }
  let statement: BetterSqlite3.Statement;
  try {
    statement = prepared(request.sql);
  } catch (error) {
    return send(failure(request.id, error));
  }
  const run = () => query(statement, request.parameters);
  // Schema changes and pragmas run on their own, as written (some cannot run in a transaction).
  if (!GROUPABLE.test(request.sql)) {
    commitGroup();
    return send(outcomeOf(request.id, run));
  }
  addToGroup(request.id, run, !statement.readonly);
}

// Standalone requests that arrived while a caller's transaction was open wait here until it ends:
// they must never commit or roll back with it.
let waiting: Array<Extract<Request, { op: 'query' | 'ingest' }>> = [];

function runInCallerTransaction(request: Extract<Request, { op: 'query' }>): void {
  // Whatever came before the caller's transaction is committed before it begins.
  commitGroup();
  send(outcomeOf(request.id, () => query(prepared(request.sql), request.parameters)));
  if (!database.inTransaction) {
    const ready = waiting;
    waiting = [];
    for (const next of ready) runStandalone(next);
  }
}

let closed = false;
function handle(requests: readonly Request[]): void {
  for (const request of requests) {
    if (closed) return;
    switch (request.op) {
      case 'close':
        commitGroup();
        closed = true;
        database.close();
        send({ id: request.id, ok: true, result: null });
        parentPort!.close();
        return;
      case 'stats':
        send({ id: request.id, ok: true, result: { ...stats } });
        break;
      case 'query':
      case 'ingest':
        if (request.op === 'query' && request.transaction) runInCallerTransaction(request);
        else if (callerTransactionOpen()) waiting.push(request);
        else runStandalone(request);
        break;
    }
  }
  commitGroup();
}

// The messages that arrived while the last commit was running are taken off the port at once
// (receiveMessageOnPort), so they share the next transaction instead of each paying its own fsync,
// and the disk never waits for the event loop to hand over the next batch.
parentPort!.on('message', (first: Request) => {
  const requests = [first];
  for (let next = receiveMessageOnPort(parentPort!); next !== undefined; next = receiveMessageOnPort(parentPort!))
    requests.push(next.message as Request);
  handle(requests);
});
