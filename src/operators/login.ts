// Operator sign-in (OPS-2, OPS-3): password, then a second factor, then the one session.
// A correct password yields only a challenge token (5 minutes, single use); the challenge plus a
// TOTP code or a recovery code yields the session. An operator without TOTP can use the challenge
// for nothing but enrolling it, so no session exists without a second factor. Table
// `operator_login_challenges`: id (lch_...), operator_id, token_hash, created_at, expires_at, used_at.
import { isPlausibleLoginPassword, normalizeEmail } from './account-input.ts';
import {
  fail,
  summary,
  type AccountContext,
  type OperatorRow,
  type OperatorSummary,
  type Outcome,
} from './account-context.ts';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './password-hash.ts';
import type { OperatorTx } from './schema.ts';
import type { OperatorSession } from './sessions.ts';
import { issueToken, parseToken, secretMatches } from './tokens.ts';
import { newTotpSecret, totpUri, verifyTotp } from './totp.ts';

export const CHALLENGE_TTL_MS = 5 * 60_000;

export interface SignedIn {
  /** For the `__Host-` session cookie only (OPS-4); never in a URL or a page. */
  readonly sessionToken: string;
  readonly csrfToken: string;
  readonly session: OperatorSession;
  readonly operator: OperatorSummary;
}

export type SecondFactor = { readonly totpCode: string } | { readonly recoveryCode: string };

export interface LoginFlow {
  beginLogin(
    email: unknown,
    password: unknown,
    ip: string | null,
  ): Promise<Outcome<{ challengeToken: string; next: 'second_factor' | 'enrol_totp' }>>;
  startTotpEnrolment(challengeToken: string): Promise<Outcome<{ secretBase32: string; uri: string }>>;
  confirmTotpEnrolment(
    challengeToken: string,
    totpCode: string,
    ip: string | null,
  ): Promise<Outcome<SignedIn & { recoveryCodes: readonly string[] }>>;
  completeSecondFactor(
    challengeToken: string,
    factor: SecondFactor,
    ip: string | null,
  ): Promise<Outcome<SignedIn & { recoveryCodesRemaining: number }>>;
}

/** The two steps every second factor shares (TOTP here, passkeys in passkeys.ts). */
export function createChallengeSteps(ctx: AccountContext) {
  const { db, clock, sessions, audit, byId } = ctx;

  /** The challenge row and its operator, if the token is live and the operator may sign in. */
  async function openChallenge(challengeToken: string) {
    const parsed = parseToken('lch', challengeToken);
    if (parsed === undefined) return undefined;
    const challenge = await db
      .selectFrom('operator_login_challenges')
      .selectAll()
      .where('id', '=', parsed.id)
      .executeTakeFirst();
    if (challenge === undefined || !secretMatches(challenge.token_hash, parsed.secret)) return undefined;
    if (challenge.used_at !== null || challenge.expires_at <= clock.nowMs()) return undefined;
    const operator = await byId(challenge.operator_id);
    if (operator === undefined || operator.disabled_at !== null) return undefined;
    return { challenge, operator };
  }

  /** Consumes the challenge, clears the failure count, starts the only session; all or nothing. */
  async function signIn(
    tx: OperatorTx,
    operator: OperatorRow,
    challengeId: string,
    ip: string | null,
    method: string,
    details: Record<string, unknown> = {},
  ) {
    const used = await tx
      .updateTable('operator_login_challenges')
      .set({ used_at: clock.nowMs() })
      .where('id', '=', challengeId)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) return undefined;
    await tx
      .updateTable('operators')
      .set({ failed_attempts: 0, locked_until: null })
      .where('id', '=', operator.id)
      .execute();
    const created = await sessions.create(operator.id, { ip, db: tx });
    await audit(tx, {
      actorType: 'operator',
      actorId: operator.id,
      action: 'operator.login',
      objectId: operator.id,
      ip,
      details: { method, sessionId: created.session.id, ...details },
    });
    const fresh = (await byId(operator.id, tx)) ?? operator;
    return {
      sessionToken: created.token,
      csrfToken: created.csrfToken,
      session: created.session,
      operator: summary(fresh),
    };
  }

  return { openChallenge, signIn };
}

export function createLoginFlow(ctx: AccountContext): LoginFlow {
  const {
    db,
    clock,
    issuer,
    totpBox,
    recoveryHasher,
    audit,
    isLocked,
    recordFailure,
    replaceRecoveryCodes,
    countRecoveryCodes,
  } = ctx;
  const { openChallenge, signIn } = createChallengeSteps(ctx);

  return {
    async beginLogin(email, password, ip) {
      const normalized = normalizeEmail(email);
      const row =
        normalized === undefined
          ? undefined
          : await db.selectFrom('operators').selectAll().where('email', '=', normalized).executeTakeFirst();
      // Always one argon2id verification (a dummy hash for an unknown address) and one audit
      // write, so neither the answer nor its timing tells whether the address has an account.
      const passwordOk =
        isPlausibleLoginPassword(password) &&
        (await verifyPassword(row?.password_hash ?? (await dummyPasswordHash()), password));
      if (row === undefined) {
        await audit(db, {
          actorType: 'operator',
          actorId: null,
          action: 'operator.login_failed',
          objectId: 'unknown',
          ip,
          result: 'failure',
          details: { reason: 'unknown_email' },
        });
        return fail('invalid_credentials');
      }
      if (row.disabled_at !== null || isLocked(row)) {
        // Attempts during a lock are not counted, so guessing cannot extend the lock indefinitely.
        await audit(db, {
          actorType: 'operator',
          actorId: null,
          action: 'operator.login_failed',
          objectId: row.id,
          ip,
          result: 'failure',
          details: { reason: row.disabled_at !== null ? 'disabled' : 'locked' },
        });
        // Only whoever knows the password learns of the lock (and so can ask an owner to end it);
        // anyone else gets the answer an unknown address gets, so a lock tells nobody who exists.
        return fail(row.disabled_at === null && passwordOk ? 'locked' : 'invalid_credentials');
      }
      if (!passwordOk) {
        await recordFailure(row, 'wrong_password', ip);
        return fail('invalid_credentials');
      }
      // The failure count is cleared only once the second factor passes too; otherwise someone
      // with the password could alternate password and code guesses forever.
      const { id, token, secretHash } = issueToken('lch');
      // A hash made with weaker parameters than today's is upgraded while the password is at hand.
      const upgradedHash = needsRehash(row.password_hash) ? await hashPassword(password) : undefined;
      const now = clock.nowMs();
      await db.transaction().execute(async (tx) => {
        if (upgradedHash !== undefined)
          await tx
            .updateTable('operators')
            .set({ password_hash: upgradedHash, updated_at: now })
            .where('id', '=', row.id)
            .where('password_hash', '=', row.password_hash)
            .execute();
        await tx
          .insertInto('operator_login_challenges')
          .values({
            id,
            operator_id: row.id,
            token_hash: secretHash,
            created_at: now,
            expires_at: now + CHALLENGE_TTL_MS,
            used_at: null,
          })
          .execute();
        await audit(tx, {
          actorType: 'operator',
          actorId: row.id,
          action: 'operator.password_verified',
          objectId: row.id,
          ip,
          details: { challengeId: id },
        });
      });
      return { ok: true, challengeToken: token, next: row.totp_enabled_at === null ? 'enrol_totp' : 'second_factor' };
    },

    async startTotpEnrolment(challengeToken) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined) return fail('invalid_challenge');
      const { operator } = opened;
      if (operator.totp_enabled_at !== null) return fail('totp_already_enrolled');
      const secretBase32 = newTotpSecret();
      await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('operators')
          .set({ totp_sealed: totpBox.seal(secretBase32, operator.id), updated_at: clock.nowMs() })
          .where('id', '=', operator.id)
          .where('totp_enabled_at', 'is', null)
          .execute();
        await audit(tx, {
          actorType: 'operator',
          actorId: operator.id,
          action: 'operator.totp_enrolment_started',
          objectId: operator.id,
        });
      });
      return { ok: true, secretBase32, uri: totpUri({ secretBase32, issuer, accountName: operator.email }) };
    },

    async confirmTotpEnrolment(challengeToken, totpCode, ip) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined) return fail('invalid_challenge');
      const { operator, challenge } = opened;
      if (operator.totp_enabled_at !== null) return fail('totp_already_enrolled');
      if (operator.totp_sealed === null) return fail('totp_not_enrolled');
      if (isLocked(operator)) return fail('locked');
      const check = verifyTotp({
        secretBase32: totpBox.open(operator.totp_sealed, operator.id),
        code: totpCode,
        nowMs: clock.nowMs(),
        lastUsedStep: null,
      });
      if (!check.ok) {
        await recordFailure(operator, 'wrong_totp_at_enrolment', ip);
        return fail('invalid_code');
      }
      const result = await db.transaction().execute(async (tx) => {
        const enabled = await tx
          .updateTable('operators')
          .set({ totp_enabled_at: clock.nowMs(), totp_last_step: check.step })
          .where('id', '=', operator.id)
          .where('totp_enabled_at', 'is', null)
          .where('totp_sealed', '=', operator.totp_sealed)
          .executeTakeFirst();
        if (Number(enabled.numUpdatedRows) !== 1) return undefined;
        await audit(tx, {
          actorType: 'operator',
          actorId: operator.id,
          action: 'operator.totp_enabled',
          objectId: operator.id,
          ip,
        });
        const recoveryCodes = await replaceRecoveryCodes(tx, operator.id);
        const signedIn = await signIn(tx, operator, challenge.id, ip, 'totp_enrolment');
        if (signedIn === undefined) throw new Error('challenge consumed concurrently');
        return { ...signedIn, recoveryCodes };
      });
      return result === undefined ? fail('invalid_challenge') : { ok: true, ...result };
    },

    async completeSecondFactor(challengeToken, factor, ip) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined) return fail('invalid_challenge');
      const { operator, challenge } = opened;
      if (isLocked(operator)) return fail('locked');
      if (operator.totp_enabled_at === null || operator.totp_sealed === null) return fail('totp_not_enrolled');

      if ('totpCode' in factor) {
        const check = verifyTotp({
          secretBase32: totpBox.open(operator.totp_sealed, operator.id),
          code: factor.totpCode,
          nowMs: clock.nowMs(),
          lastUsedStep: operator.totp_last_step,
        });
        if (!check.ok) {
          await recordFailure(operator, check.reason === 'reused' ? 'reused_totp' : 'wrong_totp', ip);
          return fail(check.reason === 'reused' ? 'code_reused' : 'invalid_code');
        }
        const result = await db.transaction().execute(async (tx) => {
          // Conditional on the step still being newer, so two requests racing with one code get one session.
          const advanced = await tx
            .updateTable('operators')
            .set({ totp_last_step: check.step })
            .where('id', '=', operator.id)
            .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', check.step)]))
            .executeTakeFirst();
          if (Number(advanced.numUpdatedRows) !== 1) return 'code_reused' as const;
          return (await signIn(tx, operator, challenge.id, ip, 'totp')) ?? ('invalid_challenge' as const);
        });
        if (typeof result === 'string') return fail(result);
        return { ok: true, ...result, recoveryCodesRemaining: await countRecoveryCodes(operator.id) };
      }

      const unused = await db
        .selectFrom('operator_recovery_codes')
        .select(['id', 'code_hash'])
        .where('operator_id', '=', operator.id)
        .where('used_at', 'is', null)
        .execute();
      const index = recoveryHasher.findMatch(
        factor.recoveryCode,
        unused.map((c) => c.code_hash),
      );
      const match = unused[index];
      if (match === undefined) {
        await recordFailure(operator, 'wrong_recovery_code', ip);
        return fail('invalid_code');
      }
      const result = await db.transaction().execute(async (tx) => {
        const spent = await tx
          .updateTable('operator_recovery_codes')
          .set({ used_at: clock.nowMs() })
          .where('id', '=', match.id)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        if (Number(spent.numUpdatedRows) !== 1) return 'invalid_code' as const;
        return (
          (await signIn(tx, operator, challenge.id, ip, 'recovery_code', { recoveryCodeId: match.id })) ??
          ('invalid_challenge' as const)
        );
      });
      if (typeof result === 'string') return fail(result);
      return { ok: true, ...result, recoveryCodesRemaining: await countRecoveryCodes(operator.id) };
    },
  };
}
