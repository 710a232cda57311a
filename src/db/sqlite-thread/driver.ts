// A Kysely dialect for SQLite whose single connection lives on its own thread (see thread.ts).
// Transactions are taken one at a time (a mutex from begin to release), and their statements are
// marked so the thread runs nothing else inside them. Statements outside a transaction are not
// serialised here: they travel to the thread as they come, and the thread commits those that
// arrive together as one group (one fsync), answering each caller after that commit.
//
// The statements inside a transaction (between its BEGIN and its COMMIT or ROLLBACK, which stay
// asynchronous) are answered synchronously: the event loop waits on a shared flag (Atomics.wait)
// for the thread's answer instead of for its own next turn. BEGIN travels with the transaction's
// first statement (one hand-off for both). Once BEGIN has run, the thread
// runs nothing but that transaction's statements (no fsync, no other caller's work), so each
// wait is the statement itself plus a thread hand-off; asynchronously, each
// statement cost a turn of the event loop, milliseconds under load, and the transaction mutex
// was held across all of them, so every other transaction queued behind those turns
// (bench/README.md, 2026-12-07). The hand-off itself: while a transaction is open the thread serves
// it in a loop of its own (thread.ts `serveTransaction`) and both sides spin briefly before they
// sleep on the shared words (protocol.ts `awaitChange`), since waking a sleeping thread costs more
// than most statements: one statement inside a transaction went from 70-95 µs to about 10
// (bench/sync-roundtrip.ts).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { IngestRow } from '../dialect.ts';
import { TRANSACTION_WRITES_SQL, type TransactionWritesAdapter } from '../transaction-writes.ts';
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

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The SQLite thread's young generation (see the constructor). */
const YOUNG_GENERATION_MB = 16;

/** A statement inside a transaction has never taken this long; past it the thread is taken for lost. */
const SYNC_ANSWER_LIMIT_MS = 60_000;

/** The thread and its request/response plumbing. */
export class SqliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;
  /** The synchronous channel: statements go out on #syncRequests and the bell rings; the thread
   * posts the answer on #syncPort, then sets SIGNAL.ANSWERED and wakes it (protocol.ts). */
  readonly #syncPort: MessagePort;
  readonly #syncRequests: MessagePort;
  readonly #signal = new Int32Array(new SharedArrayBuffer(4 * SIGNAL.WORDS));

  /** `groupMaxAgeMs`: see thread.ts (tests raise it to make sharing independent of the machine's load). */
  constructor(path: string, options: { groupMaxAgeMs?: number } = {}) {
    const answers = new MessageChannel();
    const requests = new MessageChannel();
    this.#syncPort = answers.port1;
    this.#syncRequests = requests.port1;
    this.#worker = new Worker(new URL('./thread.ts', import.meta.url), {
      workerData: {
        path,
        groupMaxAgeMs: options.groupMaxAgeMs,
        syncPort: answers.port2,
        syncRequests: requests.port2,
        signal: this.#signal.buffer,
      },
      transferList: [answers.port2, requests.port2],
      // The thread keeps little alive (prepared statements, the open group's answers), but it
      // allocates fast under load (every request and answer crosses as new objects), and V8 then
      // grew its young generation to 128 MiB, which it rarely gives back to a thread that seldom
      // idles: +110 MiB of RSS in the soak of 2026-12-07 night. Scavenges of a small young
      // generation with almost nothing surviving are cheap.
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    // Answers come in batches: all those the thread had ready at once travel as one message.
    this.#worker.on('message', (responses: readonly Response[]) => {
      for (const response of responses) {
        const pending = this.#pending.get(response.id);
        if (pending === undefined) continue;
        this.#pending.delete(response.id);
        if (response.ok) pending.resolve(response.result);
        else pending.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
      }
    });
    const failAll = (error: Error) => {
      this.#failure = error;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    this.#worker.on('error', failAll);
    this.#worker.on('exit', () => failAll(new Error('the SQLite thread has stopped')));
  }

  request<T>(body: RequestBody): Promise<T> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#outbox.push({ ...body, id } as Request);
      if (this.#outbox.length === 1) process.nextTick(this.#flush);
    });
  }

  // Requests made in one turn of the event loop (a callback and the promise continuations it sets
  // off, such as every job woken by one batch of answers) travel to the thread as one message:
  // each message is a hand-off between threads, which on a busy machine is a context switch.
  // Nothing waits longer for it: the flush runs before the event loop moves on.
  #outbox: Request[] = [];
  readonly #flush = () => {
    if (this.#outbox.length === 0) return;
    const requests = this.#outbox;
    this.#outbox = [];
    this.#worker.postMessage(requests);
    // The thread may be serving a transaction without its event loop (thread.ts): it hears this.
    ring(this.#signal, SIGNAL.BELL, SIGNAL.THREAD_ASLEEP);
  };

  /**
   * A statement of the open transaction, answered before this returns (see the header comment).
   * Only for statements inside a transaction: anything else may wait for a group commit's fsync.
   */
  requestSync<T>(body: Extract<RequestBody, { op: 'query' | 'writes' }>): T {
    if (this.#failure !== undefined) throw this.#failure;
    const id = this.#nextId++;
    // The thread writes the id of the request it answered into the flag, after posting the answer.
    const expected = id & 0x7fffffff;
    // Whatever was asked before goes first, in order.
    this.#flush();
    this.#syncRequests.postMessage({ ...body, id, sync: true });
    ring(this.#signal, SIGNAL.BELL, SIGNAL.THREAD_ASLEEP);
    const started = performance.now();
    for (
      let seen = Atomics.load(this.#signal, SIGNAL.ANSWERED);
      seen !== expected;
      seen = awaitChange(this.#signal, SIGNAL.ANSWERED, seen, SIGNAL.LOOP_ASLEEP, 1_000)
    ) {
      if (performance.now() - started > SYNC_ANSWER_LIMIT_MS) {
        this.#failure = new Error(`the SQLite thread did not answer a statement within ${SYNC_ANSWER_LIMIT_MS} ms`);
        throw this.#failure;
      }
    }
    let received = receiveMessageOnPort(this.#syncPort);
    // Posted before the flag was set, so it is there; should a port ever lag, wait for it briefly.
    for (let tries = 0; received === undefined && tries < 1_000; tries += 1) {
      Atomics.wait(this.#signal, SIGNAL.ANSWERED, expected, 1);
      received = receiveMessageOnPort(this.#syncPort);
    }
    const response = received?.message as Response | undefined;
    if (response === undefined || response.id !== id) {
      this.#failure = new Error('the SQLite thread answered a synchronous statement out of turn');
      throw this.#failure;
    }
    if (response.ok) return response.result as T;
    throw Object.assign(new Error(response.error.message), {
      code: response.error.code,
      notBegun: response.error.notBegun === true,
    });
  }

  stats(): Promise<ThreadStats> {
    return this.request<ThreadStats>({ op: 'stats' });
  }

  async close(): Promise<void> {
    if (this.#failure === undefined) await this.request({ op: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
    this.#syncPort.close();
    this.#syncRequests.close();
  }
}

const CONTROL = /^\s*(begin|commit|rollback)\s*$/i;
const isControl = (sql: string) => CONTROL.test(sql);

class Mutex {
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  async lock(): Promise<void> {
    while (this.#held !== undefined) await this.#held;
    this.#held = new Promise<void>((resolve) => (this.#release = resolve));
  }
  unlock(): void {
    const release = this.#release;
    this.#held = undefined;
    this.#release = undefined;
    release?.();
  }
}

class ThreadConnection implements DatabaseConnection {
  readonly #thread: SqliteThread;
  /** Set from begin until the connection is released: its statements belong to the transaction. */
  inTransaction = false;
  /** Its BEGIN is to travel with its first statement (see `#inTransaction`). */
  beginPending = false;
  /** Its BEGIN has been answered: the thread is running this transaction alone. */
  begun = false;
  /** Its COMMIT or ROLLBACK has been sent: the next transaction may begin behind it. */
  ended = false;
  constructor(thread: SqliteThread) {
    this.#thread = thread;
  }
  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const open = this.inTransaction && (this.begun || this.beginPending) && !this.ended;
    if (compiledQuery.sql === TRANSACTION_WRITES_SQL) {
      if (!open) throw new Error('transaction writes outside an open transaction');
      return (await this.#inTransaction({
        op: 'writes',
        statements: compiledQuery.parameters as Array<{ sql: string; parameters: readonly unknown[] }>,
        transaction: true,
      })) as QueryResult<R>;
    }
    // Inside the transaction: synchronous (see the header comment). COMMIT and ROLLBACK stay
    // asynchronous: they wait for a group commit's fsync.
    if (open && !isControl(compiledQuery.sql))
      return (await this.#inTransaction({
        op: 'query',
        sql: compiledQuery.sql,
        parameters: compiledQuery.parameters,
        transaction: true,
      })) as QueryResult<R>;
    const outcome = await this.#thread.request<QueryOutcome>({
      op: 'query',
      sql: compiledQuery.sql,
      parameters: compiledQuery.parameters,
      transaction: this.inTransaction,
    });
    return outcome as QueryResult<R>;
  }
  /**
   * A statement of the open transaction, answered synchronously. The transaction's BEGIN travels
   * with its first statement: one hand-off to the thread instead of two. When the thread cannot
   * begin at once (another connection holds the write lock) it runs nothing and says so; BEGIN is
   * then asked asynchronously, so the event loop never waits for a lock, and the statement follows.
   */
  async #inTransaction(body: Extract<RequestBody, { op: 'query' | 'writes' }>): Promise<QueryOutcome> {
    if (!this.beginPending) return this.#thread.requestSync<QueryOutcome>(body);
    this.beginPending = false;
    try {
      const outcome = this.#thread.requestSync<QueryOutcome>({ ...body, begin: true });
      this.begun = true;
      return outcome;
    } catch (error) {
      const { code, notBegun } = error as { code?: unknown; notBegun?: unknown };
      // Begun, and the statement failed: the transaction is open and the caller rolls it back.
      if (notBegun !== true) this.begun = true;
      if (code !== BUSY_ASK_AGAIN) throw error;
    }
    await this.#thread.request({ op: 'query', sql: 'begin', parameters: [], transaction: true });
    this.begun = true;
    return this.#thread.requestSync<QueryOutcome>(body);
  }
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite thread driver');
  }
}

class ThreadDriver implements Driver {
  readonly #transactions = new Mutex();
  readonly #thread: SqliteThread;
  constructor(thread: SqliteThread) {
    this.#thread = thread;
  }
  async init(): Promise<void> {}
  async acquireConnection(): Promise<DatabaseConnection> {
    // A connection per caller: the thread keeps them apart (see the header comment).
    return new ThreadConnection(this.#thread);
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#transactions.lock();
    const threadConnection = connection as ThreadConnection;
    threadConnection.inTransaction = true;
    // Sent with the first statement, synchronously like the statements after it: the transaction
    // then runs from BEGIN to its COMMIT without waiting for a turn of the event loop, and the
    // thread, which serves nothing else meanwhile, is held for microseconds instead of a turn (the
    // header comment). A transaction that runs no statement never reaches the thread.
    threadConnection.beginPending = true;
  }
  // The thread takes messages in order, so once COMMIT or ROLLBACK is posted the next
  // transaction's BEGIN can only reach it afterwards: the mutex is released then, not when the
  // answer comes back. A COMMIT is answered once its group commit is durable (thread.ts), and the
  // next transaction runs meanwhile instead of waiting for that fsync.
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await this.#end(connection as ThreadConnection, 'commit');
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // Kysely rolls back after a failed commit too: by then the transaction is over for good, and
    // a second ROLLBACK would reach whichever transaction runs next.
    const threadConnection = connection as ThreadConnection;
    if (threadConnection.ended) return;
    await this.#end(threadConnection, 'rollback');
  }
  #end(connection: ThreadConnection, statement: 'commit' | 'rollback'): Promise<unknown> {
    connection.beginPending = false;
    // Never begun on the thread (no statement ran, or its BEGIN failed): nothing to end there.
    const answer = connection.begun ? connection.executeQuery(CompiledQuery.raw(statement)) : Promise.resolve();
    connection.ended = true;
    this.#unlock(connection);
    return answer;
  }
  #unlock(connection: ThreadConnection): void {
    if (!connection.inTransaction) return;
    connection.inTransaction = false;
    this.#transactions.unlock();
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    this.#unlock(connection as ThreadConnection);
  }
  async destroy(): Promise<void> {
    await this.#thread.close();
  }
}

/** SQLite's adapter, saying that this driver takes a transaction's writes together. */
class ThreadedSqliteAdapter extends SqliteAdapter implements TransactionWritesAdapter {
  readonly takesTransactionWrites = true as const;
}

export class ThreadedSqliteDialect implements Dialect {
  readonly #thread: SqliteThread;
  constructor(thread: SqliteThread) {
    this.#thread = thread;
  }
  createDriver(): Driver {
    return new ThreadDriver(this.#thread);
  }
  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new ThreadedSqliteAdapter();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

/** Writes that commit together or not at all, in one round trip (the dialect's `writeAtomically`). */
export function threadAtomicWriter(thread: SqliteThread) {
  return async (queries: readonly CompiledQuery[]): Promise<void> => {
    if (queries.length === 0) return;
    await thread.request<QueryOutcome[]>({
      op: 'atomic',
      statements: queries.map((query) => ({ sql: query.sql, parameters: query.parameters })),
    });
  };
}

/** The ingest batch, run on the thread inside its group commit as a savepoint of its own (the
 * thread holds it back while a Kysely transaction is open, so the two never mix). */
export function threadIngestWriter(thread: SqliteThread) {
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  return (_db: Kysely<any>, rows: readonly IngestRow[]): Promise<boolean[]> => {
    // A missing optional column is undefined here, and JSON turns it into null, as SQL wants.
    const values = rows.map((row) => [
      ...INGEST_COLUMNS.webhook.map((column) => row.webhook[column]),
      ...INGEST_COLUMNS.job.map((column) => row.job[column]),
    ]);
    return thread.request<boolean[]>({ op: 'ingest', rowsJson: JSON.stringify(values) });
  };
}
