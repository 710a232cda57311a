// Table shapes for the operator tables (migration 0002-operators), in the same conventions as
// src/db/schema.ts: times are epoch milliseconds, enums and JSON are text. They live beside the
// code that uses them rather than in the shared `Database`; `operatorDb` widens a handle.
import type { Kysely, Transaction } from 'kysely';
import type { Database, DbOrTx } from '../db/schema.ts';

export const OPERATOR_ROLES = ['owner', 'admin', 'developer', 'finance', 'viewer'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export function isOperatorRole(value: unknown): value is OperatorRole {
  return typeof value === 'string' && (OPERATOR_ROLES as readonly string[]).includes(value);
}

export interface OperatorsTable {
  id: string;
  email: string;
  name: string;
  role: OperatorRole;
  password_hash: string;
  /** JSON array of the previous password hashes, newest first (at most 4). */
  password_history_json: string;
  totp_sealed: string | null;
  totp_enabled_at: number | null;
  totp_last_step: number | null;
  failed_attempts: number;
  locked_until: number | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface OperatorRecoveryCodesTable {
  id: string;
  operator_id: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

export type SessionEndReason =
  | 'logout'
  | 'replaced'
  | 'idle_timeout'
  | 'absolute_timeout'
  | 'password_changed'
  | 'role_changed'
  | 'disabled'
  | 'locked'
  /** Ended by `paywarden incident rotate` (MON-3). */
  | 'incident';

export interface OperatorSessionsTable {
  id: string;
  operator_id: string;
  token_hash: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  end_reason: SessionEndReason | null;
  reauth_at: number;
  ip: string | null;
}

export interface OperatorInvitesTable {
  id: string;
  token_hash: string;
  email: string;
  role: OperatorRole;
  invited_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  operator_id: string | null;
}

/** The step between a correct password and a session: second factor or TOTP enrolment. */
export interface OperatorLoginChallengesTable {
  id: string;
  operator_id: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface OperatorPasskeysTable {
  id: string;
  operator_id: string;
  /** base64url, as the browser reports it. */
  credential_id: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  transports_json: string;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

export interface OperatorWebauthnChallengesTable {
  id: string;
  operator_id: string;
  purpose: 'login' | 'register';
  /** The sign-in challenge id (login) or the session id (register) this was issued to. */
  bound_to: string;
  challenge: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

// A type alias, not an interface: `withTables` needs the implicit index signature.
export type OperatorTables = {
  operators: OperatorsTable;
  operator_recovery_codes: OperatorRecoveryCodesTable;
  operator_sessions: OperatorSessionsTable;
  operator_invites: OperatorInvitesTable;
  operator_login_challenges: OperatorLoginChallengesTable;
  operator_passkeys: OperatorPasskeysTable;
  operator_webauthn_challenges: OperatorWebauthnChallengesTable;
};

export type OperatorDatabase = Database & OperatorTables;
export type OperatorDb = Kysely<OperatorDatabase>;
export type OperatorTx = Transaction<OperatorDatabase>;

export function operatorDb(db: Kysely<Database>): OperatorDb {
  return db.withTables<OperatorTables>() as OperatorDb;
}

/** The audit writer takes the shared handle type; ours is the same connection with more tables. */
export function asSharedDb(db: OperatorDb | OperatorTx): DbOrTx {
  return db as unknown as DbOrTx;
}
