// Messages between the event loop and the SQLite thread. Errors cross as plain objects with the
// SQLite error code, so callers can still tell a unique violation from anything else.
export type Request =
  | { readonly id: number; readonly op: 'query'; readonly sql: string; readonly parameters: readonly unknown[] }
  // Rows travel as one JSON string: copying a string across threads is far cheaper than the
  // structured clone of hundreds of small objects.
  | { readonly id: number; readonly op: 'ingest'; readonly rowsJson: string }
  | { readonly id: number; readonly op: 'close' };

export type Response =
  | { readonly id: number; readonly ok: true; readonly result: unknown }
  | { readonly id: number; readonly ok: false; readonly error: { readonly message: string; readonly code: string | undefined } };

export interface QueryOutcome {
  readonly rows: unknown[];
  readonly numAffectedRows?: bigint;
  readonly insertId?: bigint;
}
