// Operator accounts (OPS-1..3, OPS-5, OPS-7, OPS-12). Tables (migration 0002-operators):
//   operators: id (op_...), email (unique, lower-cased), name, role, password_hash (argon2id),
//     password_history_json (up to 4 earlier hashes, newest first), totp_sealed (field cipher,
//     AAD = operator id), totp_enabled_at, totp_last_step, failed_attempts, locked_until,
//     disabled_at, created_at, updated_at
//   operator_invites: id (inv_...), token_hash, email, role, invited_by, expires_at (24 h), used_at
//   operator_recovery_codes: id (rc_...), operator_id, code_hash (HMAC-SHA256), used_at
// Sign-in lives in login.ts, sessions in sessions.ts. Every change writes an audit row in the
// same transaction; only an owner manages owners; the last active owner cannot be removed.
// Expected outcomes are returned (`Outcome`), never thrown.
import {
  createAccountContext,
  fail,
  summary,
  type AccountDeps,
  type OperatorRow,
  type OperatorSummary,
  type Outcome,
} from './account-context.ts';
import { isPlausibleLoginPassword, normalizeEmail, normalizeName } from './account-input.ts';
import { operatorObjectId } from './ids.ts';
import { createLoginFlow, type LoginFlow } from './login.ts';
import { hashPassword, verifyPassword } from './password-hash.ts';
import { createPasskeyService, type PasskeyService } from './passkeys.ts';
import { checkPassword, PASSWORD_HISTORY_SIZE } from './password-policy.ts';
import { can, canAssignRole } from './permissions.ts';
import type { OperatorRole, OperatorTx, SessionEndReason } from './schema.ts';
import type { OperatorSession, SessionStore } from './sessions.ts';
import { issueToken, parseToken, secretMatches } from './tokens.ts';

export {
  LOCKOUT_MS,
  MAX_FAILED_ATTEMPTS,
  OPERATOR_ERROR_MESSAGES,
  type AccountDeps,
  type OperatorError,
  type OperatorSummary,
  type Outcome,
} from './account-context.ts';
export { CHALLENGE_TTL_MS, type SecondFactor, type SignedIn } from './login.ts';

export const INVITE_TTL_MS = 24 * 60 * 60_000;

export interface OperatorService extends LoginFlow {
  readonly sessions: SessionStore;
  readonly passkeys: PasskeyService;
  /** First-run only (no operators yet): an owner invite, issued from the CLI. */
  inviteFirstOwner(input: { email: string }): Promise<Outcome<{ inviteId: string; token: string; expiresAt: number }>>;
  /**
   * From the command line, which only someone with the server's shell and configuration can run,
   * so any role may be invited (this is also how access is recovered when every owner is locked
   * out). The very first operator must be an owner.
   */
  inviteFromCli(input: {
    email: string;
    role: OperatorRole;
  }): Promise<Outcome<{ inviteId: string; token: string; expiresAt: number }>>;
  invite(input: {
    email: string;
    role: OperatorRole;
    invitedBy: string;
    ip?: string | null;
  }): Promise<Outcome<{ inviteId: string; token: string; expiresAt: number }>>;
  acceptInvite(
    token: string,
    input: { name: string; password: string; ip?: string | null },
  ): Promise<Outcome<{ operatorId: string }>>;
  /** For every dashboard request: the session and its operator, or why not. */
  authenticate(
    sessionToken: string,
  ): Promise<
    | { ok: true; session: OperatorSession; operator: OperatorSummary }
    | { ok: false; reason: 'invalid' | SessionEndReason }
  >;
  logout(sessionToken: string, ip?: string | null): Promise<boolean>;
  reauthenticate(session: OperatorSession, password: string, ip: string | null): Promise<Outcome<object>>;
  changePassword(input: {
    operatorId: string;
    currentPassword: string;
    newPassword: string;
    ip?: string | null;
  }): Promise<Outcome<object>>;
  changeRole(input: {
    actorId: string;
    operatorId: string;
    role: OperatorRole;
    ip?: string | null;
  }): Promise<Outcome<object>>;
  disable(input: { actorId: string; operatorId: string; ip?: string | null }): Promise<Outcome<object>>;
  /**
   * Ends a lockout before its 30 minutes (OPS-3): owners only, audited. `actorId` null is the
   * command line, run by whoever holds the deployment.
   */
  unlock(input: { actorId: string | null; operatorId: string; ip?: string | null }): Promise<Outcome<object>>;
  regenerateRecoveryCodes(input: {
    operatorId: string;
    ip?: string | null;
  }): Promise<Outcome<{ recoveryCodes: readonly string[] }>>;
  list(): Promise<OperatorSummary[]>;
}

export function createOperatorService(deps: AccountDeps): OperatorService {
  const ctx = createAccountContext(deps);
  const { db, clock, sessions, audit, byId, isLocked, recordFailure, replaceRecoveryCodes } = ctx;
  const activeActor = async (actorId: string) => {
    const actor = await byId(actorId);
    return actor !== undefined && actor.disabled_at === null && actor.totp_enabled_at !== null ? actor : undefined;
  };

  async function createInvite(
    email: string,
    role: OperatorRole,
    invitedBy: string | null,
    ip: string | null,
    actorType: 'operator' | 'cli',
  ) {
    const existing = await db.selectFrom('operators').select('id').where('email', '=', email).executeTakeFirst();
    if (existing !== undefined) return fail('already_exists');
    const { id, token, secretHash } = issueToken('inv');
    const now = clock.nowMs();
    const expiresAt = now + INVITE_TTL_MS;
    await db.transaction().execute(async (tx) => {
      // A new link replaces any earlier unused one for the address (a lost email, a wrong role),
      // so at most one invitation per address works at a time.
      await tx
        .updateTable('operator_invites')
        .set({ used_at: now })
        .where('email', '=', email)
        .where('used_at', 'is', null)
        .execute();
      await tx
        .insertInto('operator_invites')
        .values({
          id,
          token_hash: secretHash,
          email,
          role,
          invited_by: invitedBy,
          created_at: now,
          expires_at: expiresAt,
          used_at: null,
          operator_id: null,
        })
        .execute();
      await audit(tx, {
        actorType,
        actorId: invitedBy,
        action: 'operator.invited',
        objectType: 'operator_invite',
        objectId: id,
        ip,
        details: { role },
      });
    });
    return { ok: true as const, inviteId: id, token, expiresAt };
  }

  /** Who may change `target`: an active actor whose role may assign both the old and the new role. */
  async function authorise(actorId: string, targetId: string, newRole?: OperatorRole) {
    const actor = await activeActor(actorId);
    const target = await byId(targetId);
    if (actor === undefined) return { ok: false as const, error: 'forbidden' as const };
    if (target === undefined) return { ok: false as const, error: 'not_found' as const };
    if (!canAssignRole(actor.role, target.role) || (newRole !== undefined && !canAssignRole(actor.role, newRole)))
      return { ok: false as const, error: 'forbidden' as const };
    return { ok: true as const, actor, target };
  }

  /**
   * Inside the change's transaction: would removing `target` from the active owners leave none?
   * Every active owner row is locked first (in id order, through the dialect seam), so two owners
   * demoting or disabling each other at the same moment are decided one after the other: the
   * second sees the first's change and is refused.
   */
  async function wouldLeaveNoOwner(tx: OperatorTx, target: OperatorRow): Promise<boolean> {
    if (target.role !== 'owner' || target.disabled_at !== null) return false;
    const owners = await deps.dialect
      .lockForUpdate(
        tx
          .selectFrom('operators')
          .select('id')
          .where('role', '=', 'owner')
          .where('disabled_at', 'is', null)
          .orderBy('id'),
      )
      .execute();
    return owners.every((o) => o.id === target.id);
  }

  return {
    ...createLoginFlow(ctx),
    sessions,
    passkeys: createPasskeyService(ctx),

    async inviteFirstOwner({ email }) {
      const normalized = normalizeEmail(email);
      if (normalized === undefined) return fail('invalid_email');
      const any = await db.selectFrom('operators').select('id').limit(1).executeTakeFirst();
      if (any !== undefined) return fail('forbidden');
      return createInvite(normalized, 'owner', null, null, 'cli');
    },

    async inviteFromCli({ email, role }) {
      const normalized = normalizeEmail(email);
      if (normalized === undefined) return fail('invalid_email');
      const any = await db.selectFrom('operators').select('id').limit(1).executeTakeFirst();
      if (any === undefined && role !== 'owner') return fail('forbidden');
      return createInvite(normalized, role, null, null, 'cli');
    },

    async invite({ email, role, invitedBy, ip = null }) {
      const normalized = normalizeEmail(email);
      if (normalized === undefined) return fail('invalid_email');
      const actor = await activeActor(invitedBy);
      if (actor === undefined || !canAssignRole(actor.role, role)) return fail('forbidden');
      return createInvite(normalized, role, actor.id, ip, 'operator');
    },

    async acceptInvite(token, { name, password, ip = null }) {
      const parsed = parseToken('inv', token);
      if (parsed === undefined) return fail('invalid_invite');
      const invite = await db.selectFrom('operator_invites').selectAll().where('id', '=', parsed.id).executeTakeFirst();
      if (invite === undefined || !secretMatches(invite.token_hash, parsed.secret) || invite.used_at !== null)
        return fail('invalid_invite');
      if (invite.expires_at <= clock.nowMs()) return fail('invite_expired');
      const cleanName = normalizeName(name);
      if (cleanName === undefined) return fail('invalid_name');
      const failures = await checkPassword(password, { email: invite.email, name: cleanName });
      if (failures.length > 0) return fail('password_rejected', failures);
      const passwordHash = await hashPassword(password);
      const operatorId = operatorObjectId('op');
      return db.transaction().execute(async (tx) => {
        const now = clock.nowMs();
        // Conditional on still unused and unexpired: two tabs submitting the same link make one account.
        const claimed = await tx
          .updateTable('operator_invites')
          .set({ used_at: now, operator_id: operatorId })
          .where('id', '=', invite.id)
          .where('used_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return fail('invalid_invite');
        const taken = await tx
          .selectFrom('operators')
          .select('id')
          .where('email', '=', invite.email)
          .executeTakeFirst();
        if (taken !== undefined) return fail('already_exists');
        await tx
          .insertInto('operators')
          .values({
            id: operatorId,
            email: invite.email,
            name: cleanName,
            role: invite.role,
            password_hash: passwordHash,
            password_history_json: '[]',
            totp_sealed: null,
            totp_enabled_at: null,
            totp_last_step: null,
            failed_attempts: 0,
            locked_until: null,
            disabled_at: null,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await audit(tx, {
          actorType: 'operator',
          actorId: operatorId,
          action: 'operator.created',
          objectId: operatorId,
          ip,
          details: { inviteId: invite.id, role: invite.role, invitedBy: invite.invited_by },
        });
        return { ok: true as const, operatorId };
      });
    },

    async authenticate(sessionToken) {
      const check = await sessions.validate(sessionToken);
      if (!check.ok) return check;
      const operator = await byId(check.session.operatorId);
      if (operator === undefined || operator.disabled_at !== null) {
        await sessions.end(check.session.id, 'disabled');
        return { ok: false, reason: 'disabled' };
      }
      return { ok: true, session: check.session, operator: summary(operator) };
    },

    async logout(sessionToken, ip = null) {
      const check = await sessions.validate(sessionToken);
      if (!check.ok) return false;
      return db.transaction().execute(async (tx) => {
        const ended = await sessions.end(check.session.id, 'logout', tx);
        if (ended)
          await audit(tx, {
            actorType: 'operator',
            actorId: check.session.operatorId,
            action: 'operator.logout',
            objectId: check.session.operatorId,
            ip,
            details: { sessionId: check.session.id },
          });
        return ended;
      });
    },

    async reauthenticate(session, password, ip) {
      const operator = await byId(session.operatorId);
      if (operator === undefined || operator.disabled_at !== null || isLocked(operator))
        return fail('invalid_credentials');
      if (!isPlausibleLoginPassword(password) || !(await verifyPassword(operator.password_hash, password))) {
        await recordFailure(operator, 'wrong_password_reauth', ip);
        return fail('invalid_credentials');
      }
      await db.transaction().execute(async (tx) => {
        await sessions.markReauthenticated(session.id, tx);
        await audit(tx, {
          actorType: 'operator',
          actorId: operator.id,
          action: 'operator.reauthenticated',
          objectId: operator.id,
          ip,
          details: { sessionId: session.id },
        });
      });
      return { ok: true };
    },

    async changePassword({ operatorId, currentPassword, newPassword, ip = null }) {
      const operator = await byId(operatorId);
      if (operator === undefined || operator.disabled_at !== null || isLocked(operator))
        return fail('invalid_credentials');
      if (
        !isPlausibleLoginPassword(currentPassword) ||
        !(await verifyPassword(operator.password_hash, currentPassword))
      ) {
        await recordFailure(operator, 'wrong_password_change', ip);
        return fail('invalid_credentials');
      }
      const earlier = (JSON.parse(operator.password_history_json) as string[]).filter((h) => typeof h === 'string');
      const recent = [operator.password_hash, ...earlier].slice(0, PASSWORD_HISTORY_SIZE);
      const failures = await checkPassword(newPassword, {
        email: operator.email,
        name: operator.name,
        previousHashes: recent,
      });
      if (failures.length > 0) return fail('password_rejected', failures);
      const passwordHash = await hashPassword(newPassword);
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('operators')
          .set({
            password_hash: passwordHash,
            password_history_json: JSON.stringify(recent),
            updated_at: clock.nowMs(),
          })
          .where('id', '=', operator.id)
          .execute();
        const ended = await sessions.endAllFor(operator.id, 'password_changed', tx);
        await audit(tx, {
          actorType: 'operator',
          actorId: operator.id,
          action: 'operator.password_changed',
          objectId: operator.id,
          ip,
          details: { sessionsEnded: ended },
        });
      });
      return { ok: true };
    },

    async changeRole({ actorId, operatorId, role, ip = null }) {
      const auth = await authorise(actorId, operatorId, role);
      if (!auth.ok) return fail(auth.error);
      const { actor, target } = auth;
      if (target.role === role) return { ok: true };
      const changed = await db.transaction().execute(async (tx) => {
        if (await wouldLeaveNoOwner(tx, target)) return false;
        await tx
          .updateTable('operators')
          .set({ role, updated_at: clock.nowMs() })
          .where('id', '=', target.id)
          .execute();
        // The new role applies from a fresh sign-in, never to a session opened under the old one.
        const ended = await sessions.endAllFor(target.id, 'role_changed', tx);
        await audit(tx, {
          actorType: 'operator',
          actorId: actor.id,
          action: 'operator.role_changed',
          objectId: target.id,
          ip,
          details: { from: target.role, to: role, sessionsEnded: ended },
        });
        return true;
      });
      return changed ? { ok: true } : fail('last_owner');
    },

    async disable({ actorId, operatorId, ip = null }) {
      if (actorId === operatorId) return fail('forbidden');
      const auth = await authorise(actorId, operatorId);
      if (!auth.ok) return fail(auth.error);
      const { actor, target } = auth;
      if (target.disabled_at !== null) return { ok: true };
      const changed = await db.transaction().execute(async (tx) => {
        if (await wouldLeaveNoOwner(tx, target)) return false;
        await tx
          .updateTable('operators')
          .set({ disabled_at: clock.nowMs(), updated_at: clock.nowMs() })
          .where('id', '=', target.id)
          .execute();
        const ended = await sessions.endAllFor(target.id, 'disabled', tx);
        await audit(tx, {
          actorType: 'operator',
          actorId: actor.id,
          action: 'operator.disabled',
          objectId: target.id,
          ip,
          details: { role: target.role, sessionsEnded: ended },
        });
        return true;
      });
      return changed ? { ok: true } : fail('last_owner');
    },

    async unlock({ actorId, operatorId, ip = null }) {
      if (actorId !== null) {
        const actor = await activeActor(actorId);
        if (actor === undefined || !can(actor.role, 'unlock_operators')) return fail('forbidden');
      }
      const target = await byId(operatorId);
      if (target === undefined) return fail('not_found');
      if (!isLocked(target)) return fail('not_locked');
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('operators')
          .set({ locked_until: null, failed_attempts: 0, updated_at: clock.nowMs() })
          .where('id', '=', target.id)
          .execute();
        await audit(tx, {
          actorType: actorId === null ? 'cli' : 'operator',
          actorId,
          action: 'operator.unlocked',
          objectId: target.id,
          ip,
          details: { lockedUntilMs: target.locked_until },
        });
      });
      return { ok: true };
    },

    async regenerateRecoveryCodes({ operatorId, ip = null }) {
      const operator = await byId(operatorId);
      if (operator === undefined || operator.disabled_at !== null) return fail('not_found');
      if (operator.totp_enabled_at === null) return fail('totp_not_enrolled');
      const recoveryCodes = await db.transaction().execute(async (tx) => {
        const codes = await replaceRecoveryCodes(tx, operator.id);
        await audit(tx, {
          actorType: 'operator',
          actorId: operator.id,
          action: 'operator.recovery_codes_regenerated',
          objectId: operator.id,
          ip,
        });
        return codes;
      });
      return { ok: true, recoveryCodes };
    },

    async list() {
      const rows = await db
        .selectFrom('operators')
        .selectAll()
        .orderBy('created_at', 'asc')
        .orderBy('id', 'asc')
        .execute();
      return rows.map(summary);
    },
  };
}
