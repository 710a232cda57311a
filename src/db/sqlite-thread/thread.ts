// The SQLite thread. better-sqlite3 is synchronous: on the event loop, every COMMIT's fsync
// (synchronous=FULL) would stop the whole process, including the parsing of the requests that
// should join the next group commit. Here the disk waits happen beside the event loop, which
// keeps accepting and verifying webhooks while the previous group is made durable.
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import {
  awaitChange,
  BUSY_ASK_AGAIN,
  INGEST_COLUMNS,
  ring,
  SIGNAL,
  type QueryOutcome,
  type Request,
  type Response,
  type ThreadStats,
} from './protocol.ts';

const { path, groupMaxAgeMs, syncPort, syncRequests, signal } = workerData as {
  path: string;
  groupMaxAgeMs?: number;
  syncPort: MessagePort;
  syncRequests: MessagePort;
  signal: SharedArrayBuffer;
};
const shared = new Int32Array(signal);
const database = new BetterSqlite3(path);
// WAL lets readers run beside the writer; synchronous=FULL fsyncs the WAL on every commit, so a
// write we acknowledged survives power loss, not only a process crash.
database.pragma('journal_mode = WAL');
database.pragma('synchronous = FULL');
database.pragma('foreign_keys = ON');
const BUSY_TIMEOUT_MS = 5000;
database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
// Freed content is zeroed in its page instead of left in free space: an erased customer's wrapped
// data key, or a retired key version, leaves the file at the next checkpoint (DAT-3's
// crypto-shredding). FAST costs CPU, never extra I/O; only freelist pages can keep traces.
database.pragma('secure_delete = FAST');
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

// Answers wait here and leave together (see `flushAnswers`): one message to the event loop for
// a whole group commit instead of one per caller.
let answers: Response[] = [];
const send = (response: Response) => {
  answers.push(response);
};
function flushAnswers(): void {
  if (answers.length === 0) return;
  const ready = answers;
  answers = [];
  parentPort!.postMessage(ready);
}
/** The answer to a statement the event loop is waiting for synchronously (driver.ts `requestSync`). */
function sendSync(response: Response): void {
  stats.syncAnswers += 1;
  syncPort.postMessage(response);
  ring(shared, SIGNAL.ANSWERED, SIGNAL.LOOP_ASLEEP, response.id & 0x7fffffff);
}

// Group commit for everything: ingest batches, single statements from any caller (the job
// workers' claims and results, reads and writes outside a transaction) and the callers' own
// Kysely transactions. All that arrived together run in one SQLite transaction and are answered
// only after its commit, so each caller sees exactly what autocommit (or its own COMMIT) would
// have given it, durable when answered, for one fsync instead of one each.
//   - A statement that fails takes back only its own changes (SQLite undoes a failed statement,
//     an ingest batch is a savepoint) and only its caller sees the error.
//   - A caller's transaction is a savepoint of the group: it runs alone (nothing else joins it
//     while it is open, and the driver opens one at a time), its ROLLBACK takes back only its
//     own writes, and its COMMIT releases the savepoint and is answered after the group commits.
//     The next transaction may begin at once, inside the same group: transactions still run one
//     after another, but no longer pay one fsync each.
//   - If the whole group is lost (disk full, an I/O error, a failed commit), every standalone
//     member runs again alone, and every transaction in it is told its commit failed. A deferred
//     constraint (the schema has none) is checked at the group's commit, so one transaction
//     breaking it fails every transaction of its group.
interface Member {
  readonly id: number;
  /** Runs the member again alone; undefined for a caller's transaction, which cannot be. */
  readonly run: (() => unknown) | undefined;
  response: Response;
}
let group: Member[] = [];
let groupOpen = false;
let groupOpenedMs = 0;
/** Past this age a group commits before the next caller transaction begins, bounding the wait of
 * those already in it when transactions follow one another without a gap. */
const GROUP_MAX_AGE_MS = groupMaxAgeMs ?? 2;
const stats = { groupCommits: 0, groupedRequests: 0, groupFallbacks: 0, syncAnswers: 0 } satisfies ThreadStats;
// IMMEDIATE: the group takes the write lock when it opens (waiting for another process's writer
// here, beside the event loop), so a statement of a caller's transaction, which the event loop
// waits for synchronously (driver.ts), never waits for a lock.
const begin = database.prepare('begin immediate');
const commit = database.prepare('commit');
const rollback = database.prepare('rollback');
const savepoint = database.prepare('savepoint caller_transaction');
const release = database.prepare('release caller_transaction');
const rollbackToSavepoint = database.prepare('rollback to caller_transaction');

/** A caller's Kysely transaction is open: nothing else may run inside it. */
let callerOpen = false;
/** The group was lost under the open caller transaction: its statements fail until it rolls back. */
let callerBroken = false;

function openGroup(): void {
  if (groupOpen) return;
  begin.run();
  groupOpen = true;
  groupOpenedMs = performance.now();
}

/** Opens the group unless another connection holds the write lock; false when it does. */
function openGroupWithoutWaiting(): boolean {
  database.pragma('busy_timeout = 0');
  try {
    openGroup();
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'SQLITE_BUSY') return false;
    throw error;
  } finally {
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  }
}

function addToGroup(id: number, run: () => unknown, writes: boolean): void {
  // A read before any write of the group sees only committed data: it needs no commit to wait for.
  if (!writes && !groupOpen) return send(outcomeOf(id, run));
  openGroup();
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
  // What is already answered (reads, a transaction's BEGIN) does not wait for this fsync.
  flushAnswers();
  if (!groupOpen || callerOpen) return;
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
  for (const member of members)
    send(
      member.run === undefined
        ? failure(member.id, new Error('the transaction was lost with its group commit (see the log of the disk)'))
        : outcomeOf(member.id, member.run),
    );
}

const GROUPABLE = /^\s*(select|insert|update|delete|with|replace)\b/i;

// Inside a group this is a savepoint: a failing statement takes back the others of its batch only.
const atomicBatch = database.transaction(
  (statements: Extract<Request, { op: 'atomic' }>['statements']): QueryOutcome[] =>
    statements.map((statement) => query(prepared(statement.sql), statement.parameters)),
);

/** A statement, an ingest batch or an atomic batch that is not part of a caller's transaction. */
function runStandalone(request: Extract<Request, { op: 'query' | 'ingest' | 'atomic' }>): void {
  if (request.op === 'ingest') {
    const rows = JSON.parse(request.rowsJson) as IngestValues[];
    return addToGroup(request.id, () => ingestBatch(rows), true);
  }
  if (request.op === 'atomic') return addToGroup(request.id, () => atomicBatch(request.statements), true);
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
let waiting: Array<Extract<Request, { op: 'query' | 'ingest' | 'atomic' }>> = [];

/** begin, commit and rollback of a caller's transaction, as the driver sends them. */
const CONTROL = /^\s*(begin|commit|rollback)\s*$/i;

type CallerRequest = Extract<Request, { op: 'query' | 'writes' }>;

/** Opens a caller's transaction: undefined once it is open, else the failure to answer (with
 * `notBegun`, so the driver knows no transaction is open on the thread). */
function beginCaller(request: CallerRequest): Response | undefined {
  if (groupOpen && performance.now() - groupOpenedMs >= GROUP_MAX_AGE_MS) commitGroup();
  const notBegun = (response: Response): Response =>
    response.ok ? response : { id: response.id, ok: false, error: { ...response.error, notBegun: true } };
  // The event loop waits for a synchronous BEGIN: it must not wait for another connection's
  // write lock (busy_timeout), so then it is told to ask again asynchronously (driver.ts).
  if (request.sync === true && !groupOpen && !openGroupWithoutWaiting())
    return notBegun(failure(request.id, Object.assign(new Error('the database is locked'), { code: BUSY_ASK_AGAIN })));
  try {
    openGroup();
    savepoint.run();
  } catch (error) {
    return notBegun(failure(request.id, error));
  }
  callerOpen = true;
  callerBroken = false;
  return undefined;
}

function runInCallerTransaction(request: CallerRequest): void {
  const control = request.op === 'query' ? CONTROL.exec(request.sql)?.[1]?.toLowerCase() : undefined;
  const answer = request.sync === true ? sendSync : send;
  if (control === 'begin') return answer(beginCaller(request) ?? { id: request.id, ok: true, result: { rows: [] } });
  if (request.begin === true) {
    // The BEGIN that came with this statement (the transaction's first) runs before it.
    const refused = beginCaller(request);
    if (refused !== undefined) return answer(refused);
  }
  if (control === 'commit' || control === 'rollback') {
    if (!callerOpen) return send(failure(request.id, new Error('no transaction is open')));
    const broken = callerBroken;
    callerOpen = false;
    callerBroken = false;
    if (control === 'rollback') {
      if (!broken) {
        rollbackToSavepoint.run();
        release.run();
      }
      send({ id: request.id, ok: true, result: { rows: [] } });
    } else if (broken) {
      send(failure(request.id, new Error('the transaction was lost (disk full or an I/O error)')));
    } else {
      release.run();
      group.push({ id: request.id, run: undefined, response: { id: request.id, ok: true, result: { rows: [] } } });
    }
    const ready = waiting;
    waiting = [];
    for (const next of ready) runStandalone(next);
    return;
  }
  if (callerBroken)
    return answer(failure(request.id, new Error('the transaction was lost (disk full or an I/O error)')));
  const response = outcomeOf(request.id, () => {
    if (request.op === 'query') return query(prepared(request.sql), request.parameters);
    // A transaction's statements sent together (transaction-writes.ts): the first failure stops
    // them; each one's outcome is answered, in order, as the rows of the answer.
    return { rows: request.statements.map((statement) => query(prepared(statement.sql), statement.parameters)) };
  });
  if (!response.ok && !database.inTransaction) {
    // SQLite rolled back the group under the caller: the others in it run again alone.
    callerBroken = true;
    const lost = group;
    group = [];
    groupOpen = false;
    runAlone(lost);
  }
  answer(response);
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
        flushAnswers();
        parentPort!.close();
        return;
      case 'stats':
        send({ id: request.id, ok: true, result: { ...stats } });
        break;
      case 'query':
      case 'ingest':
      case 'atomic':
        if (request.op === 'query' && request.transaction) runInCallerTransaction(request);
        else if (callerOpen) waiting.push(request);
        else runStandalone(request);
        break;
    }
  }
}

// While a caller's transaction is open the thread does nothing but serve it (everything else waits
// for its end), so it serves it here, off its own event loop: it takes the transaction's
// statements from their port as soon as the bell rings, spinning briefly before it sleeps
// (protocol.ts `awaitChange`), and whatever arrives on its main port meanwhile (the COMMIT or
// ROLLBACK, the next BEGIN, other callers' requests) is handled as the event loop would. Waking the
// event loop of a sleeping thread for each statement cost more than most statements.
const takeSync = () => receiveMessageOnPort(syncRequests)?.message as CallerRequest | undefined;
function serveTransaction(): void {
  // Rounds since the transaction ended: one to drain what came with its end, one spinning for the
  // BEGIN of a caller queued behind it (sent at once), then back to the event loop.
  let roundsAfterEnd = 0;
  while (!closed) {
    flushAnswers();
    const seen = Atomics.load(shared, SIGNAL.BELL);
    let served = false;
    for (let next = take(); next !== undefined && !closed; next = take()) {
      handle(next);
      served = true;
    }
    for (let next = takeSync(); next !== undefined && !closed; next = takeSync()) {
      // What the event loop sent before this statement (the last transaction's COMMIT) goes first.
      for (let before = take(); before !== undefined && !closed; before = take()) handle(before);
      runInCallerTransaction(next);
      served = true;
    }
    if (callerOpen) {
      roundsAfterEnd = 0;
      if (!served) awaitChange(shared, SIGNAL.BELL, seen, SIGNAL.THREAD_ASLEEP, 100);
      continue;
    }
    roundsAfterEnd += 1;
    if (roundsAfterEnd > 2) break;
    if (!served) awaitChange(shared, SIGNAL.BELL, seen, SIGNAL.THREAD_ASLEEP, 0);
  }
  flushAnswers();
}

// The messages that arrived while the last commit was running are taken off the port at once
// (receiveMessageOnPort), so they share the next transaction instead of each paying its own fsync,
// and the disk never waits for the event loop to hand over the next batch. Whatever arrived while
// those ran joins too, unless the group is already GROUP_MAX_AGE_MS old.
const take = () => receiveMessageOnPort(parentPort!)?.message as readonly Request[] | undefined;
parentPort!.on('message', (first: readonly Request[]) => {
  let requests = [...first];
  while (requests.length > 0) {
    for (let next = take(); next !== undefined; next = take()) requests.push(...next);
    handle(requests);
    flushAnswers();
    if (callerOpen) serveTransaction();
    requests = [];
    if (closed || (groupOpen && performance.now() - groupOpenedMs >= GROUP_MAX_AGE_MS)) break;
    const next = take();
    if (next !== undefined) requests.push(...next);
  }
  if (!closed) {
    commitGroup();
    flushAnswers();
  }
});
// A transaction's BEGIN, when the thread is not serving one already (then it takes it itself), and
// so its first way into `serveTransaction`.
syncRequests.on('message', (request: CallerRequest) => {
  if (closed) return;
  for (let before = take(); before !== undefined && !closed; before = take()) handle(before);
  if (closed) return;
  runInCallerTransaction(request);
  if (callerOpen) serveTransaction();
  if (!callerOpen && !closed) {
    commitGroup();
    flushAnswers();
  }
});
