// Statements inside a transaction that need nothing of each other's results (an event row, its
// deliveries and jobs, the audit row of a transition; a new payment's insert and its audit row):
// sent together, each one's result answered (`executeTogether`) or none (`executeWrites`). On the
// SQLite thread they travel as one round trip, answered when the last has run; elsewhere
// (PostgreSQL) they run one after another on the transaction's connection, exactly as if each had
// been awaited. Either way the first failure
// stops the rest and is thrown with its database error code, and the caller's transaction, which
// sees the throw, rolls back as it would for a failed single statement.
import type { CompiledQuery, QueryResult } from 'kysely';
import type { Tx } from './schema.ts';

/** The SQL of the query that carries a batch of writes to a driver that takes them together. */
export const TRANSACTION_WRITES_SQL = '-- paywarden: transaction writes';

/** A dialect adapter whose driver takes TRANSACTION_WRITES_SQL (the SQLite thread's). */
export interface TransactionWritesAdapter {
  readonly takesTransactionWrites: true;
}

export async function executeWrites(trx: Tx, queries: readonly CompiledQuery[]): Promise<void> {
  await executeTogether(trx, queries);
}

/**
 * Statements of the open transaction that need nothing of each other's results (an insert that
 * returns its row, then the writes that go with it), sent together like `executeWrites`, with each
 * one's result, in order.
 */
export async function executeTogether(trx: Tx, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  if (queries.length === 0) return [];
  const adapter = trx.getExecutor().adapter as Partial<TransactionWritesAdapter>;
  if (adapter.takesTransactionWrites === true && trx.isTransaction) {
    const statements = queries.map((query) => ({ sql: query.sql, parameters: query.parameters }));
    const together = await trx.executeQuery({ ...queries[0]!, sql: TRANSACTION_WRITES_SQL, parameters: statements });
    return together.rows as QueryResult<unknown>[];
  }
  const results: QueryResult<unknown>[] = [];
  for (const query of queries) results.push(await trx.executeQuery(query));
  return results;
}
