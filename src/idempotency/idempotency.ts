// Idempotency-Key on every POST (API-7), kept in the database for 24 h and scoped to the API key
// (a key from one merchant credential can never replay another's response).
//   same key, same body      -> the stored response again, with `Idempotent-Replayed: true`
//   same key, other body     -> 422 idempotency_key_reused
//   same key, still running  -> 409 idempotency_key_in_flight
// Answers that ask to be retried are not stored: 5xx, 429 and any with a Retry-After (a 409
// checkout_in_progress), so the retry runs again; a payment whose provider gave no answer is
// resumed by that retry (src/payments/checkout-creation.ts). A request that crashed mid-flight leaves a lock that lapses
// after LOCK_MS, after which the key can be used again: the retry that takes the lock over is told
// so (`takenOver`), since whatever the dead request made was never answered to anyone. Each claim
// holds its own lock value and stores its answer only while it still holds it, so a request that
// outlived its lock (a takeover happened) cannot overwrite or delete the answer of the one that
// took over.
import { createHash } from 'node:crypto';
import type { SystemKeys } from '../privacy/system-keys.ts';
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import { ApiError } from '../errors.ts';

export const RETENTION_MS = 24 * 3_600_000;
export const LOCK_MS = 60_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type IdempotencyClaim =
  | {
      kind: 'proceed';
      readonly key: string;
      /** The lock this request holds: `complete` stores its answer only while it still does. */
      lockedUntilMs: number;
      /** The key's earlier request died without answering, and this one took its lock over. */
      takenOver: boolean;
    }
  | { kind: 'replay'; status: number; body: string };

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

export function createIdempotencyStore(deps: { db: Db; clock: Clock; systemKeys: SystemKeys }) {
  // The stored answer holds what the API answered (a payment with its customer): sealed at rest.
  const context = (apiKeyId: string, key: string) => `idempotency_keys.response_body:${apiKeyId}:${key}`;
  async function claim(apiKeyId: string, key: string | undefined, hash: string): Promise<IdempotencyClaim> {
    if (key === undefined || key === '') throw new ApiError('idempotency_key_missing');
    if (!KEY_PATTERN.test(key)) throw new ApiError('idempotency_key_invalid');
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const now = deps.clock.nowMs();
      const inserted = await deps.db
        .insertInto('idempotency_keys')
        .values({
          api_key_id: apiKeyId,
          idem_key: key,
          request_hash: hash,
          state: 'in_flight',
          response_status: null,
          response_body: null,
          locked_until: now + LOCK_MS,
          created_at: now,
          expires_at: now + RETENTION_MS,
        })
        .onConflict((oc) => oc.columns(['api_key_id', 'idem_key']).doNothing())
        .returning('idem_key')
        .executeTakeFirst();
      if (inserted !== undefined) return { kind: 'proceed', key, lockedUntilMs: now + LOCK_MS, takenOver: false };

      const existing = await deps.db
        .selectFrom('idempotency_keys')
        .selectAll()
        .where('api_key_id', '=', apiKeyId)
        .where('idem_key', '=', key)
        .executeTakeFirst();
      if (existing === undefined) continue;
      if (existing.expires_at <= now) {
        await deps.db
          .deleteFrom('idempotency_keys')
          .where('api_key_id', '=', apiKeyId)
          .where('idem_key', '=', key)
          .where('expires_at', '<=', now)
          .execute();
        continue;
      }
      if (existing.request_hash !== hash) throw new ApiError('idempotency_key_reused');
      if (existing.state === 'done' && existing.response_status !== null && existing.response_body !== null)
        return {
          kind: 'replay',
          status: existing.response_status,
          body: await deps.systemKeys.open(existing.response_body, context(apiKeyId, key)),
        };
      if (existing.locked_until > now) throw new ApiError('idempotency_key_in_flight');
      // The earlier request died without answering: take the lock over, guarded on the old one.
      const taken = await deps.db
        .updateTable('idempotency_keys')
        .set({ locked_until: now + LOCK_MS })
        .where('api_key_id', '=', apiKeyId)
        .where('idem_key', '=', key)
        .where('state', '=', 'in_flight')
        .where('locked_until', '=', existing.locked_until)
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) > 0)
        return { kind: 'proceed', key, lockedUntilMs: now + LOCK_MS, takenOver: true };
    }
    throw new ApiError('idempotency_key_in_flight');
  }

  /** Stores the answer of the request holding the lock `lockedUntilMs` (its claim's), if it still does. */
  async function complete(
    apiKeyId: string,
    key: string,
    lockedUntilMs: number,
    status: number,
    body: string,
    retryAfter = false,
  ): Promise<void> {
    if (status >= 500 || status === 429 || retryAfter) {
      await deps.db
        .deleteFrom('idempotency_keys')
        .where('api_key_id', '=', apiKeyId)
        .where('idem_key', '=', key)
        .where('state', '=', 'in_flight')
        .where('locked_until', '=', lockedUntilMs)
        .execute();
      return;
    }
    await deps.db
      .updateTable('idempotency_keys')
      .set({
        state: 'done',
        response_status: status,
        response_body: deps.systemKeys.seal(body, context(apiKeyId, key)),
      })
      .where('api_key_id', '=', apiKeyId)
      .where('idem_key', '=', key)
      .where('state', '=', 'in_flight')
      .where('locked_until', '=', lockedUntilMs)
      .execute();
  }

  async function purgeExpired(): Promise<number> {
    const result = await deps.db
      .deleteFrom('idempotency_keys')
      .where('expires_at', '<=', deps.clock.nowMs())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  return { claim, complete, purgeExpired };
}

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
