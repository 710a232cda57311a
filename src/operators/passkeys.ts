// Passkeys (WebAuthn) as a second factor (OPS-3), beside TOTP, which stays mandatory so that a
// lost passkey never locks anyone out. Registration needs a signed-in, recently re-authenticated
// session; sign-in uses a passkey in place of the code, after the password. Verification is
// @simplewebauthn/server's; we keep the challenges (single use, 5 minutes, bound to the sign-in
// challenge or the session they were issued to), the credentials and the signature counters.
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { fail, type AccountContext, type Outcome } from './account-context.ts';
import { operatorObjectId } from './ids.ts';
import { createChallengeSteps, type SignedIn } from './login.ts';
import type { OperatorSession } from './sessions.ts';

const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60_000;
export const MAX_PASSKEYS_PER_OPERATOR = 10;

/** Where the ceremony happens: the RP ID (our host name) and the origins a browser may report. */
export interface RelyingParty {
  readonly id: string;
  readonly name: string;
  readonly origins: readonly string[];
}

export interface PasskeySummary {
  readonly id: string;
  readonly name: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
}

export interface PasskeyService {
  registrationOptions(session: OperatorSession, rp: RelyingParty): Promise<Outcome<{ options: unknown }>>;
  register(
    session: OperatorSession,
    input: { name: string; response: unknown },
    rp: RelyingParty,
    ip: string | null,
  ): Promise<Outcome<{ passkeyId: string }>>;
  list(operatorId: string): Promise<PasskeySummary[]>;
  remove(operatorId: string, passkeyId: string, ip: string | null): Promise<boolean>;
  /** For the sign-in page: may this sign-in challenge use a passkey? */
  availableFor(challengeToken: string): Promise<boolean>;
  loginOptions(challengeToken: string, rp: RelyingParty): Promise<Outcome<{ options: unknown }>>;
  completeLogin(
    challengeToken: string,
    response: unknown,
    rp: RelyingParty,
    ip: string | null,
  ): Promise<Outcome<SignedIn>>;
}

const transportsOf = (row: { transports_json: string }) => JSON.parse(row.transports_json) as string[];

export function createPasskeyService(ctx: AccountContext): PasskeyService {
  const { db, clock, audit, byId, isLocked, recordFailure } = ctx;
  const { openChallenge, signIn } = createChallengeSteps(ctx);

  const passkeysOf = (operatorId: string) =>
    db
      .selectFrom('operator_passkeys')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .orderBy('created_at', 'asc')
      .execute();

  async function issueChallenge(operatorId: string, purpose: 'login' | 'register', boundTo: string, challenge: string) {
    const now = clock.nowMs();
    await db
      .insertInto('operator_webauthn_challenges')
      .values({
        id: operatorObjectId('wac'),
        operator_id: operatorId,
        purpose,
        bound_to: boundTo,
        challenge,
        created_at: now,
        expires_at: now + WEBAUTHN_CHALLENGE_TTL_MS,
        used_at: null,
      })
      .execute();
  }

  /** The newest live challenge issued for this purpose and binding, consumed by this call. */
  async function takeChallenge(purpose: 'login' | 'register', boundTo: string): Promise<string | undefined> {
    const now = clock.nowMs();
    const row = await db
      .selectFrom('operator_webauthn_challenges')
      .selectAll()
      .where('bound_to', '=', boundTo)
      .where('purpose', '=', purpose)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return undefined;
    const used = await db
      .updateTable('operator_webauthn_challenges')
      .set({ used_at: now })
      .where('id', '=', row.id)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(used.numUpdatedRows) === 1 ? row.challenge : undefined;
  }

  return {
    async registrationOptions(session, rp) {
      const operator = await byId(session.operatorId);
      if (operator === undefined || operator.disabled_at !== null) return fail('not_found');
      const existing = await passkeysOf(operator.id);
      if (existing.length >= MAX_PASSKEYS_PER_OPERATOR) return fail('too_many_passkeys');
      const options = await generateRegistrationOptions({
        rpName: rp.name,
        rpID: rp.id,
        userName: operator.email,
        userDisplayName: operator.name,
        userID: new TextEncoder().encode(operator.id),
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
      });
      await issueChallenge(operator.id, 'register', session.id, options.challenge);
      return { ok: true, options };
    },

    async register(session, { name, response }, rp, ip) {
      const expectedChallenge = await takeChallenge('register', session.id);
      if (expectedChallenge === undefined) return fail('invalid_challenge');
      let verification: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        verification = await verifyRegistrationResponse({
          response: response as RegistrationResponseJSON,
          expectedChallenge,
          expectedOrigin: [...rp.origins],
          expectedRPID: rp.id,
          requireUserVerification: true,
        });
      } catch {
        return fail('passkey_rejected');
      }
      if (!verification.verified) return fail('passkey_rejected');
      const { credential } = verification.registrationInfo;
      const id = operatorObjectId('pk');
      const now = clock.nowMs();
      try {
        await db.transaction().execute(async (tx) => {
          await tx
            .insertInto('operator_passkeys')
            .values({
              id,
              operator_id: session.operatorId,
              credential_id: credential.id,
              public_key: Buffer.from(credential.publicKey).toString('base64url'),
              counter: credential.counter,
              transports_json: JSON.stringify(credential.transports ?? []),
              name,
              created_at: now,
              last_used_at: null,
            })
            .execute();
          await audit(tx, {
            actorType: 'operator',
            actorId: session.operatorId,
            action: 'operator.passkey_added',
            objectId: session.operatorId,
            ip,
            details: { passkeyId: id, name },
          });
        });
      } catch {
        // The unique credential id: this authenticator is already registered (to someone).
        return fail('passkey_rejected');
      }
      return { ok: true, passkeyId: id };
    },

    async list(operatorId) {
      return (await passkeysOf(operatorId)).map((p) => ({
        id: p.id,
        name: p.name,
        createdAt: p.created_at,
        lastUsedAt: p.last_used_at,
      }));
    },

    async remove(operatorId, passkeyId, ip) {
      return db.transaction().execute(async (tx) => {
        const removed = await tx
          .deleteFrom('operator_passkeys')
          .where('id', '=', passkeyId)
          .where('operator_id', '=', operatorId)
          .executeTakeFirst();
        const done = Number(removed.numDeletedRows) === 1;
        if (done)
          await audit(tx, {
            actorType: 'operator',
            actorId: operatorId,
            action: 'operator.passkey_removed',
            objectId: operatorId,
            ip,
            details: { passkeyId },
          });
        return done;
      });
    },

    async availableFor(challengeToken) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined || opened.operator.totp_enabled_at === null) return false;
      return (await passkeysOf(opened.operator.id)).length > 0;
    },

    async loginOptions(challengeToken, rp) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined) return fail('invalid_challenge');
      // Enrolment of TOTP comes first; a passkey is an alternative to the code, not to enrolment.
      if (opened.operator.totp_enabled_at === null) return fail('totp_not_enrolled');
      const passkeys = await passkeysOf(opened.operator.id);
      if (passkeys.length === 0) return fail('no_passkey');
      const options = await generateAuthenticationOptions({
        rpID: rp.id,
        userVerification: 'required',
        allowCredentials: passkeys.map((p) => ({ id: p.credential_id, transports: transportsOf(p) })),
      });
      await issueChallenge(opened.operator.id, 'login', opened.challenge.id, options.challenge);
      return { ok: true, options };
    },

    async completeLogin(challengeToken, response, rp, ip) {
      const opened = await openChallenge(challengeToken);
      if (opened === undefined) return fail('invalid_challenge');
      const { operator, challenge } = opened;
      if (isLocked(operator)) return fail('locked');
      const expectedChallenge = await takeChallenge('login', challenge.id);
      if (expectedChallenge === undefined) return fail('invalid_challenge');
      const credentialId =
        typeof response === 'object' && response !== null && typeof (response as { id?: unknown }).id === 'string'
          ? (response as { id: string }).id
          : '';
      const passkey = await db
        .selectFrom('operator_passkeys')
        .selectAll()
        .where('credential_id', '=', credentialId)
        .where('operator_id', '=', operator.id)
        .executeTakeFirst();
      let verified = false;
      let newCounter = 0;
      if (passkey !== undefined) {
        try {
          const result = await verifyAuthenticationResponse({
            response: response as AuthenticationResponseJSON,
            expectedChallenge,
            expectedOrigin: [...rp.origins],
            expectedRPID: rp.id,
            requireUserVerification: true,
            credential: {
              id: passkey.credential_id,
              publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
              counter: passkey.counter,
              transports: transportsOf(passkey),
            },
          });
          verified = result.verified;
          newCounter = result.authenticationInfo.newCounter;
        } catch {
          verified = false;
        }
      }
      if (!verified || passkey === undefined) {
        await recordFailure(operator, 'wrong_passkey', ip);
        return fail('passkey_rejected');
      }
      const signedIn = await db.transaction().execute(async (tx) => {
        await tx
          .updateTable('operator_passkeys')
          .set({ counter: newCounter, last_used_at: clock.nowMs() })
          .where('id', '=', passkey.id)
          .execute();
        return signIn(tx, operator, challenge.id, ip, 'passkey', { passkeyId: passkey.id });
      });
      return signedIn === undefined ? fail('invalid_challenge') : { ok: true, ...signedIn };
    },
  };
}
