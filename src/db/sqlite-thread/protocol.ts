// Messages between the event loop and the SQLite thread. Errors cross as plain objects with the
// SQLite error code, so callers can still tell a unique violation from anything else.
import type { JobsTable, ProviderWebhooksTable } from '../schema.ts';

export type Request =
  // `transaction`: the statement belongs to the Kysely transaction that is open (begin, its
  // statements, commit or rollback). Any other statement stands alone, and the thread may commit
  // it together with others that arrived with it (see thread.ts).
  | {
      readonly id: number;
      readonly op: 'query';
      readonly sql: string;
      readonly parameters: readonly unknown[];
      readonly transaction: boolean;
      /** Answered on the synchronous channel (see driver.ts `requestSync`), not the thread's port. */
      readonly sync?: boolean;
      /** The transaction's BEGIN travels with its first statement (driver.ts `ThreadConnection`). */
      readonly begin?: boolean;
    }
  // Rows travel as one JSON string: copying a string across threads is far cheaper than the
  // structured clone of hundreds of small objects. Each row is an array of values in the order of
  // INGEST_COLUMNS (no keys to write, parse and look up again when binding).
  | { readonly id: number; readonly op: 'ingest'; readonly rowsJson: string }
  // Writes that must commit together or not at all, with no read between them: run on the thread
  // in one go as a savepoint of its group commit, so they need no Kysely transaction (no mutex,
  // one round trip instead of one per statement plus BEGIN and COMMIT).
  | {
      readonly id: number;
      readonly op: 'atomic';
      readonly statements: ReadonlyArray<{ readonly sql: string; readonly parameters: readonly unknown[] }>;
    }
  // Writes of the open transaction whose results nobody reads (src/db/transaction-writes.ts),
  // answered together: one round trip instead of one each.
  | {
      readonly id: number;
      readonly op: 'writes';
      readonly statements: ReadonlyArray<{ readonly sql: string; readonly parameters: readonly unknown[] }>;
      readonly transaction: true;
      readonly sync?: boolean;
      readonly begin?: boolean;
    }
  | { readonly id: number; readonly op: 'stats' }
  | { readonly id: number; readonly op: 'close' };

/** An ingest row on the wire: the webhook's values in this order, then its job's. */
export const INGEST_COLUMNS = {
  webhook: [
    'id',
    'provider',
    'mode',
    'dedupe_key',
    'event_type',
    'provider_reference',
    'signature_scheme',
    'body',
    'received_at',
    'status',
    'result',
    'processed_at',
  ],
  job: [
    'id',
    'kind',
    'payload_json',
    'status',
    'attempts',
    'max_attempts',
    'run_at',
    'lease_until',
    'last_error',
    'dedupe_key',
    'created_at',
    'updated_at',
  ],
} as const satisfies {
  readonly webhook: ReadonlyArray<keyof ProviderWebhooksTable>;
  readonly job: ReadonlyArray<keyof JobsTable>;
};

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: {
        readonly message: string;
        readonly code: string | undefined;
        /** The statement carried its transaction's BEGIN, which failed: no transaction is open. */
        readonly notBegun?: boolean;
      };
    };

export interface QueryOutcome {
  readonly rows: unknown[];
  readonly numAffectedRows?: bigint;
  readonly insertId?: bigint;
}

/** What the thread has done since it opened: for tests and diagnostics. */
export interface ThreadStats {
  /** Transactions committed by the thread's group commit (each one fsync). */
  readonly groupCommits: number;
  /** Statements and ingest batches those transactions carried. */
  readonly groupedRequests: number;
  /** Groups that failed as a whole and were written again one by one. */
  readonly groupFallbacks: number;
  /** Statements of transactions answered on the synchronous channel: each one a hand-off the
   * event loop waited for. */
  readonly syncAnswers: number;
}

/** The code of a synchronous BEGIN's answer when another connection holds the write lock: the
 * event loop must not wait for it, so it asks again asynchronously (driver.ts). */
export const BUSY_ASK_AGAIN = 'PAYWARDEN_BUSY_ASK_AGAIN';

/**
 * The shared words between the event loop and the thread (an Int32Array on a SharedArrayBuffer):
 * ANSWERED holds the id of the last synchronous statement answered; BELL counts what the event
 * loop has sent (a synchronous statement, or a batch on the thread's port), so the thread serving
 * a transaction notices either without going back to its own event loop. LOOP_ASLEEP and
 * THREAD_ASLEEP say that side sleeps on its word: only then is a wake-up worth its cost.
 */
export const SIGNAL = { ANSWERED: 0, BELL: 1, LOOP_ASLEEP: 2, THREAD_ASLEEP: 3, WORDS: 4 } as const;

/**
 * Spinning budget before sleeping (µs). Waking a sleeping thread costs about 14 µs on this
 * project's VM (two wakes per statement: 28 µs), while the answer to a statement, or the next
 * statement of a transaction, usually comes within a few µs to a few tens: bench/sync-roundtrip.ts.
 */
export const SPIN_BEFORE_SLEEP_US = 50;

// `Atomics.pause` (V8 13.x, Node 24) tells the core it is spinning; Node 22 lacks it.
const pause = (Atomics as { pause?: () => void }).pause?.bind(Atomics) ?? (() => undefined);

/**
 * Waits until `signal[index]` is no longer `seen`, or `sleepMs` has passed: spins for up to
 * SPIN_BEFORE_SLEEP_US first, then sleeps on the word with `asleep` set. Returns the word's value.
 */
export function awaitChange(signal: Int32Array, index: number, seen: number, asleep: number, sleepMs: number): number {
  const started = performance.now();
  for (let spins = 1; ; spins += 1) {
    const now = Atomics.load(signal, index);
    if (now !== seen) return now;
    // Checking the clock costs more than a spin: every 32 spins.
    if ((spins & 31) === 0 && (performance.now() - started) * 1000 > SPIN_BEFORE_SLEEP_US) break;
    pause();
  }
  // Set before the wait, which returns at once if the word has changed since: a ringer that read
  // `asleep` as 0 changed the word before this store, so this wait does not sleep (ring below).
  Atomics.store(signal, asleep, 1);
  Atomics.wait(signal, index, seen, sleepMs);
  Atomics.store(signal, asleep, 0);
  return Atomics.load(signal, index);
}

/** Changes a word (adds one, or stores `value`) and wakes the other side if it sleeps on it. */
export function ring(signal: Int32Array, index: number, asleep: number, value?: number): void {
  if (value === undefined) Atomics.add(signal, index, 1);
  else Atomics.store(signal, index, value);
  if (Atomics.load(signal, asleep) === 1) Atomics.notify(signal, index);
}
