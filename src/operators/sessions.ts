// Operator sessions (OPS-4..8). Table `operator_sessions`: id (ses_...), operator_id, token_hash
// (SHA-256 hex of the secret), created_at, last_seen_at, expires_at (created_at + absolute
// timeout), ended_at, end_reason, reauth_at (last password entry), ip. A partial unique index
// allows one live (ended_at null) row per operator.
//
// The cookie holds `<id>.<secret>` (tokens.ts): 256 bits from the CSPRNG, only SHA-256 of the
// secret stored, the row found by id and the hash compared in constant time. A database dump
// therefore yields no usable session.
// The CSRF token is an HMAC of a fixed label under the secret: tied to this session, computable
// on every page without storing it, and useless for recovering the cookie if a page leaks.
import { createHmac } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import type { Database } from '../db/schema.ts';
import { issueToken, parseToken, secretMatches } from './tokens.ts';
import {
  operatorDb,
  type OperatorDb,
  type OperatorTx,
  type OperatorSessionsTable,
  type SessionEndReason,
} from './schema.ts';

export const MAX_IDLE_TIMEOUT_MS = 15 * 60_000; // OPS-6 (adopted)
export const MAX_ABSOLUTE_TIMEOUT_MS = 10 * 60 * 60_000; // OPS-6 (adopted)
export const DEFAULT_FRESH_WITHIN_MS = 5 * 60_000;
// last_seen_at is written at most this often, so reading a session is not a write per request.
// Idle time counts from the last write: a session idles out up to a minute early, never late.
const TOUCH_INTERVAL_MS = 60_000;

export interface OperatorSession {
  readonly id: string;
  readonly operatorId: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
  readonly expiresAt: number;
  readonly reauthAt: number;
}

export type SessionCheck = { ok: true; session: OperatorSession } | { ok: false; reason: 'invalid' | SessionEndReason };

export interface SessionStore {
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  /** Ends the operator's live session (reason `replaced`) and starts a new one. Token shown once. */
  create(
    operatorId: string,
    options?: { ip?: string | null; db?: OperatorDb | OperatorTx },
  ): Promise<{ token: string; csrfToken: string; session: OperatorSession }>;
  validate(token: string): Promise<SessionCheck>;
  end(sessionId: string, reason: SessionEndReason, db?: OperatorDb | OperatorTx): Promise<boolean>;
  endAllFor(operatorId: string, reason: SessionEndReason, db?: OperatorDb | OperatorTx): Promise<number>;
  markReauthenticated(sessionId: string, db?: OperatorDb | OperatorTx): Promise<void>;
  /** For key rotation, payout approval, secret edits: was the password entered recently? */
  requireFresh(
    session: OperatorSession,
    withinMs?: number,
  ): { ok: true } | { ok: false; reason: 'reauthentication_required' };
  csrfTokenFor(token: string): string | undefined;
  verifyCsrf(token: string, presented: string): boolean;
}

export interface SessionOptions {
  /** At most 15 minutes; larger values are refused, not clamped, so a typo cannot weaken OPS-6. */
  readonly idleTimeoutMs?: number;
  /** At most 10 hours; same rule. */
  readonly absoluteTimeoutMs?: number;
}

function checkTimeout(name: string, value: number, max: number): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > max)
    throw new RangeError(`${name} must be a whole number of milliseconds between 1 and ${max}, got ${value}`);
  return value;
}

function toSession(row: OperatorSessionsTable): OperatorSession {
  return {
    id: row.id,
    operatorId: row.operator_id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    reauthAt: row.reauth_at,
  };
}

export function createSessionStore(deps: { db: Kysely<Database>; clock: Clock } & SessionOptions): SessionStore {
  const root = operatorDb(deps.db);
  const idleTimeoutMs = checkTimeout('idleTimeoutMs', deps.idleTimeoutMs ?? MAX_IDLE_TIMEOUT_MS, MAX_IDLE_TIMEOUT_MS);
  const absoluteTimeoutMs = checkTimeout(
    'absoluteTimeoutMs',
    deps.absoluteTimeoutMs ?? MAX_ABSOLUTE_TIMEOUT_MS,
    MAX_ABSOLUTE_TIMEOUT_MS,
  );

  const end = async (db: OperatorDb | OperatorTx, sessionId: string, reason: SessionEndReason) => {
    const result = await db
      .updateTable('operator_sessions')
      .set({ ended_at: deps.clock.nowMs(), end_reason: reason })
      .where('id', '=', sessionId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  };

  const create = async (db: OperatorDb | OperatorTx, operatorId: string, ip: string | null) => {
    const now = deps.clock.nowMs();
    // Touching the operator row first takes its row lock (PostgreSQL; SQLite has one writer), so
    // two racing sign-ins run one after the other and the second ends the first (OPS-7).
    const touched = await db
      .updateTable('operators')
      .set({ updated_at: now })
      .where('id', '=', operatorId)
      .executeTakeFirst();
    if (Number(touched.numUpdatedRows) !== 1) throw new Error('no such operator');
    await db
      .updateTable('operator_sessions')
      .set({ ended_at: now, end_reason: 'replaced' })
      .where('operator_id', '=', operatorId)
      .where('ended_at', 'is', null)
      .execute();
    const { id, token, secret, secretHash } = issueToken('ses');
    const row: OperatorSessionsTable = {
      id,
      operator_id: operatorId,
      token_hash: secretHash,
      created_at: now,
      last_seen_at: now,
      expires_at: now + absoluteTimeoutMs,
      ended_at: null,
      end_reason: null,
      reauth_at: now,
      ip,
    };
    await db.insertInto('operator_sessions').values(row).execute();
    return { token, csrfToken: csrfFromSecret(secret), session: toSession(row) };
  };

  const csrfFromSecret = (secret: string) =>
    createHmac('sha256', secret).update('paywarden:csrf:v1').digest('base64url');

  return {
    idleTimeoutMs,
    absoluteTimeoutMs,

    async create(operatorId, options = {}) {
      if (options.db !== undefined) return create(options.db, operatorId, options.ip ?? null);
      return root.transaction().execute((trx) => create(trx, operatorId, options.ip ?? null));
    },

    async validate(token) {
      const parsed = parseToken('ses', token);
      if (parsed === undefined) return { ok: false, reason: 'invalid' };
      const row = await root.selectFrom('operator_sessions').selectAll().where('id', '=', parsed.id).executeTakeFirst();
      if (row === undefined || !secretMatches(row.token_hash, parsed.secret)) return { ok: false, reason: 'invalid' };
      // Only the holder of the right secret learns why it ended (e.g. `replaced`: signed in elsewhere).
      if (row.ended_at !== null) return { ok: false, reason: row.end_reason ?? 'invalid' };
      const now = deps.clock.nowMs();
      const expired: SessionEndReason | undefined =
        now >= row.expires_at
          ? 'absolute_timeout'
          : now - row.last_seen_at >= idleTimeoutMs
            ? 'idle_timeout'
            : undefined;
      if (expired !== undefined) {
        await end(root, row.id, expired);
        return { ok: false, reason: expired };
      }
      if (now - row.last_seen_at >= TOUCH_INTERVAL_MS) {
        await root
          .updateTable('operator_sessions')
          .set({ last_seen_at: now })
          .where('id', '=', row.id)
          .where('ended_at', 'is', null)
          .execute();
        return { ok: true, session: toSession({ ...row, last_seen_at: now }) };
      }
      return { ok: true, session: toSession(row) };
    },

    end: (sessionId, reason, db = root) => end(db, sessionId, reason),

    async endAllFor(operatorId, reason, db = root) {
      const result = await db
        .updateTable('operator_sessions')
        .set({ ended_at: deps.clock.nowMs(), end_reason: reason })
        .where('operator_id', '=', operatorId)
        .where('ended_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async markReauthenticated(sessionId, db = root) {
      await db
        .updateTable('operator_sessions')
        .set({ reauth_at: deps.clock.nowMs() })
        .where('id', '=', sessionId)
        .where('ended_at', 'is', null)
        .execute();
    },

    requireFresh(session, withinMs = DEFAULT_FRESH_WITHIN_MS) {
      return deps.clock.nowMs() - session.reauthAt <= withinMs
        ? { ok: true }
        : { ok: false, reason: 'reauthentication_required' };
    },

    csrfTokenFor(token) {
      const parsed = parseToken('ses', token);
      return parsed === undefined ? undefined : csrfFromSecret(parsed.secret);
    },

    verifyCsrf(token, presented) {
      const parsed = parseToken('ses', token);
      // Compare against something either way, so a malformed cookie takes the usual time.
      return (
        constantTimeEqual(parsed === undefined ? '' : csrfFromSecret(parsed.secret), presented) &&
        parsed !== undefined &&
        presented.length > 0
      );
    },
  };
}
