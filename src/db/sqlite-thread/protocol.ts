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
      readonly error: { readonly message: string; readonly code: string | undefined };
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
}
