// A Kysely dialect for SQLite whose single connection lives on its own thread (see thread.ts).
// Transactions are taken one at a time (a mutex from begin to release), and their statements are
// marked so the thread runs nothing else inside them. Statements outside a transaction are not
// serialised here: they travel to the thread as they come, and the thread commits those that
// arrive together as one group (one fsync), answering each caller after that commit.
import { Worker } from 'node:worker_threads';
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
import { INGEST_COLUMNS, type QueryOutcome, type Request, type Response, type ThreadStats } from './protocol.ts';

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** The thread and its request/response plumbing. */
export class SqliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #failure: Error | undefined;

  /** `groupMaxAgeMs`: see thread.ts (tests raise it to make sharing independent of the machine's load). */
  constructor(path: string, options: { groupMaxAgeMs?: number } = {}) {
    this.#worker = new Worker(new URL('./thread.ts', import.meta.url), {
      workerData: { path, groupMaxAgeMs: options.groupMaxAgeMs },
    });
    this.#worker.on('message', (response: Response) => {
      const pending = this.#pending.get(response.id);
      if (pending === undefined) return;
      this.#pending.delete(response.id);
      if (response.ok) pending.resolve(response.result);
      else pending.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
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
      this.#worker.postMessage({ ...body, id });
    });
  }

  stats(): Promise<ThreadStats> {
    return this.request<ThreadStats>({ op: 'stats' });
  }

  async close(): Promise<void> {
    if (this.#failure === undefined) await this.request({ op: 'close' }).catch(() => undefined);
    await this.#worker.terminate();
  }
}

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
  /** Its COMMIT or ROLLBACK has been sent: the next transaction may begin behind it. */
  ended = false;
  constructor(thread: SqliteThread) {
    this.#thread = thread;
  }
  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const outcome = await this.#thread.request<QueryOutcome>({
      op: 'query',
      sql: compiledQuery.sql,
      parameters: compiledQuery.parameters,
      transaction: this.inTransaction,
    });
    return outcome as QueryResult<R>;
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
    try {
      await threadConnection.executeQuery(CompiledQuery.raw('begin'));
    } catch (error) {
      threadConnection.inTransaction = false;
      this.#transactions.unlock();
      throw error;
    }
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
    const answer = connection.executeQuery(CompiledQuery.raw(statement));
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
    return new SqliteAdapter();
  }
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own driver and migrator interfaces are typed Kysely<any>
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
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
