// What the account service and the sign-in flow share: the widened database handle, the clock,
// the session store, the sealed-TOTP box, the recovery-code hasher, the error catalogue, and the
// one place failed attempts are counted and accounts locked (OPS-3).
import type { Kysely } from 'kysely';
import { writeAudit, type AuditEntry } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { KeySource } from '../crypto/encryption.ts';
import type { Logger } from '../log.ts';
import type { DialectStrategy } from '../db/dialect.ts';
import type { Database } from '../db/schema.ts';
import { operatorObjectId } from './ids.ts';
import { dummyPasswordHash } from './password-hash.ts';
import type { PasswordRuleFailure } from './password-policy.ts';
import {
  asSharedDb,
  operatorDb,
  type OperatorDb,
  type OperatorRole,
  type OperatorsTable,
  type OperatorTx,
} from './schema.ts';
import { createSessionStore, type SessionOptions, type SessionStore } from './sessions.ts';
import {
  createRecoveryCodeHasher,
  createTotpSecretBox,
  generateRecoveryCodes,
  type RecoveryCodeHasher,
  type TotpSecretBox,
} from './totp.ts';

export const MAX_FAILED_ATTEMPTS = 10; // OPS-3 (adopted)
export const LOCKOUT_MS = 30 * 60_000; // OPS-3 (adopted)

export type OperatorError =
  | 'invalid_credentials'
  | 'invalid_email'
  | 'invalid_name'
  | 'password_rejected'
  | 'forbidden'
  | 'not_found'
  | 'already_exists'
  | 'last_owner'
  | 'invalid_invite'
  | 'invite_expired'
  | 'invalid_challenge'
  | 'locked'
  | 'not_locked'
  | 'totp_not_enrolled'
  | 'totp_already_enrolled'
  | 'invalid_code'
  | 'code_reused'
  | 'too_many_passkeys'
  | 'no_passkey'
  | 'passkey_rejected';

/** Sentences for the dashboard. */
export const OPERATOR_ERROR_MESSAGES: Readonly<Record<OperatorError, string>> = Object.freeze({
  // The same for an unknown email, a wrong password and a disabled account; a locked account is
  // told so only once the right password is entered (`locked`), so neither says who has an account.
  invalid_credentials: 'The email or password is wrong.',
  invalid_email: 'Enter a valid email address.',
  invalid_name: "Enter your name (letters, spaces and . , ' - only, at most 100 characters).",
  password_rejected: 'Choose another password: see the rules it does not meet.',
  forbidden: 'Your role does not allow this.',
  not_found: 'No such operator.',
  already_exists: 'An operator with this email already exists.',
  last_owner: 'This would leave no active owner; make someone else an owner first.',
  invalid_invite: 'This invitation link is not valid or has already been used. Ask for a new one.',
  invite_expired: 'This invitation link has expired (links last 24 hours). Ask for a new one.',
  invalid_challenge: 'Your sign-in took too long or was already completed. Sign in again.',
  locked:
    'This account is locked for 30 minutes after too many failed attempts. Wait, or ask an owner to unlock it (Operators page, or paywarden operators unlock).',
  not_locked: 'This account is not locked.',
  totp_not_enrolled: 'Set up your authenticator app first.',
  totp_already_enrolled: 'An authenticator app is already set up for this account.',
  invalid_code: 'That code is not right. Check the time on your device and try the current code.',
  code_reused: 'That code has already been used. Wait for the next code in your authenticator app.',
  too_many_passkeys: 'You already have 10 passkeys; remove one first.',
  no_passkey: 'This account has no passkey yet; use a code from your authenticator app.',
  passkey_rejected: 'The passkey was not accepted. Try again, or use a code from your authenticator app.',
});

export type Outcome<T> =
  | ({ ok: true } & T)
  | { ok: false; error: OperatorError; failures?: readonly PasswordRuleFailure[] };

export interface OperatorSummary {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: OperatorRole;
  readonly totpEnabled: boolean;
  readonly disabled: boolean;
  readonly lockedUntil: number | null;
  readonly createdAt: number;
}

export type OperatorRow = OperatorsTable;

export const fail = (error: OperatorError, failures?: readonly PasswordRuleFailure[]) => ({
  ok: false as const,
  error,
  ...(failures === undefined ? {} : { failures }),
});

export function summary(row: OperatorRow): OperatorSummary {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    totpEnabled: row.totp_enabled_at !== null,
    disabled: row.disabled_at !== null,
    lockedUntil: row.locked_until,
    createdAt: row.created_at,
  };
}

export interface AccountDeps {
  readonly db: Kysely<Database>;
  /** Where a lockout is logged at alert level (OPS-3, MON-1); silent without one. */
  readonly logger?: Pick<Logger, 'error'>;
  /** Row locks for the last-active-owner rule (src/db/dialect.ts). */
  readonly dialect: Pick<DialectStrategy, 'lockForUpdate'>;
  readonly clock: Clock;
  readonly masterKey: KeySource;
  /** Shown in authenticator apps next to the account; defaults to "Paywarden". */
  readonly issuer?: string;
  readonly sessionOptions?: SessionOptions;
}

export interface AccountContext {
  readonly db: OperatorDb;
  readonly clock: Clock;
  readonly issuer: string;
  readonly sessions: SessionStore;
  readonly totpBox: TotpSecretBox;
  readonly recoveryHasher: RecoveryCodeHasher;
  audit(
    tx: OperatorDb | OperatorTx,
    entry: Omit<AuditEntry, 'mode' | 'objectType'> & { objectType?: string },
  ): Promise<void>;
  byId(id: string, tx?: OperatorDb | OperatorTx): Promise<OperatorRow | undefined>;
  isLocked(row: OperatorRow): boolean;
  /** One more failed password or code; the tenth in a row locks the account for 30 minutes. */
  recordFailure(row: OperatorRow, reason: string, ip: string | null): Promise<void>;
  replaceRecoveryCodes(tx: OperatorTx, operatorId: string): Promise<string[]>;
  countRecoveryCodes(operatorId: string): Promise<number>;
}

export function createAccountContext(deps: AccountDeps): AccountContext {
  const db = operatorDb(deps.db);
  const { clock } = deps;
  // Computed now rather than on the first unknown-email sign-in, which would otherwise be slower.
  void dummyPasswordHash();
  const sessions = createSessionStore({ db: deps.db, clock, ...deps.sessionOptions });
  const recoveryHasher = createRecoveryCodeHasher(deps.masterKey);
  const audit: AccountContext['audit'] = (tx, entry) =>
    writeAudit(asSharedDb(tx), clock, { mode: null, objectType: 'operator', ...entry });
  const byId: AccountContext['byId'] = (id, tx = db) =>
    tx.selectFrom('operators').selectAll().where('id', '=', id).executeTakeFirst();

  return {
    db,
    clock,
    issuer: deps.issuer ?? 'Paywarden',
    sessions,
    totpBox: createTotpSecretBox(deps.masterKey),
    recoveryHasher,
    audit,
    byId,
    isLocked: (row) => row.locked_until !== null && row.locked_until > clock.nowMs(),

    async recordFailure(row, reason, ip) {
      let locked = false;
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('operators')
          .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
          .where('id', '=', row.id)
          .execute();
        const current = await byId(row.id, tx);
        await audit(tx, {
          actorType: 'operator',
          actorId: null,
          action: 'operator.login_failed',
          objectId: row.id,
          ip,
          result: 'failure',
          details: { reason },
        });
        if (current !== undefined && current.failed_attempts >= MAX_FAILED_ATTEMPTS) {
          // The counter starts again after the lock, so each 30-minute window allows ten guesses.
          await tx
            .updateTable('operators')
            .set({ locked_until: clock.nowMs() + LOCKOUT_MS, failed_attempts: 0 })
            .where('id', '=', row.id)
            .execute();
          await sessions.endAllFor(row.id, 'locked', tx);
          await audit(tx, {
            actorType: 'system',
            actorId: null,
            action: 'operator.locked',
            objectId: row.id,
            ip,
            details: { untilMs: clock.nowMs() + LOCKOUT_MS },
          });
          locked = true;
        }
      });
      // A lockout may be an attack on the operator rather than a forgotten password: seen at once
      // (alert-level log here; PaywardenOperatorLockout from the audit rows on /metrics).
      if (locked)
        deps.logger?.error(
          { alert: 'operator_locked', operatorId: row.id, untilMs: clock.nowMs() + LOCKOUT_MS },
          'operator account locked after repeated failed sign-ins; an owner can unlock it',
        );
    },

    async replaceRecoveryCodes(tx, operatorId) {
      const codes = generateRecoveryCodes();
      const now = clock.nowMs();
      await tx.deleteFrom('operator_recovery_codes').where('operator_id', '=', operatorId).execute();
      await tx
        .insertInto('operator_recovery_codes')
        .values(
          codes.map((code) => ({
            id: operatorObjectId('rc'),
            operator_id: operatorId,
            code_hash: recoveryHasher.hash(code),
            created_at: now,
            used_at: null,
          })),
        )
        .execute();
      return codes;
    },

    async countRecoveryCodes(operatorId) {
      const rows = await db
        .selectFrom('operator_recovery_codes')
        .select('id')
        .where('operator_id', '=', operatorId)
        .where('used_at', 'is', null)
        .execute();
      return rows.length;
    },
  };
}
