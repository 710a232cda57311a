// Signed requests (API-5). A key created with signing carries an HMAC secret (`whsk_...`, shown
// once, sealed at rest); every request it makes then carries
//   X-API-KEY: the key   X-TIMESTAMP: unix seconds   X-SIGNATURE: hex HMAC-SHA256(secret, canonical)
// over the canonical string (docs/api-keys.md has test vectors, checked by request-signing.test.ts)
//   <timestamp> "\n" <METHOD> "\n" <path with query, exactly as sent> "\n" <hex SHA-256 of the body bytes>
// A signature is accepted within 300 s of its timestamp (either side, for clock skew) and only
// once: the replay store is a database table, so a signature used on one gateway process is
// refused on every other sharing the database.
import { createHash, createHmac } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import type { Secret } from '../crypto/secret.ts';
import type { Db } from '../db/schema.ts';

export const SIGNATURE_WINDOW_SECONDS = 300;

export function canonicalString(input: {
  timestamp: string;
  method: string;
  pathWithQuery: string;
  body: Uint8Array | string;
}): string {
  const bodyDigest = createHash('sha256').update(input.body).digest('hex');
  return `${input.timestamp}\n${input.method.toUpperCase()}\n${input.pathWithQuery}\n${bodyDigest}`;
}

/** What a client computes (and what the test vectors pin). */
export function signRequest(
  secret: string,
  input: { timestamp: string; method: string; pathWithQuery: string; body: Uint8Array | string },
): string {
  return createHmac('sha256', secret).update(canonicalString(input)).digest('hex');
}

export type SignatureCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: 'signature_required' | 'signature_invalid' | 'signature_expired' | 'signature_replayed';
    };

const TIMESTAMP = /^\d{1,12}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

export function createSignatureVerifier(deps: { db: Db; clock: Clock }) {
  return {
    async verify(input: {
      apiKeyId: string;
      secret: Secret;
      timestamp: string | undefined;
      signature: string | undefined;
      method: string;
      pathWithQuery: string;
      body: Uint8Array;
    }): Promise<SignatureCheck> {
      if (input.timestamp === undefined || input.signature === undefined)
        return { ok: false, code: 'signature_required' };
      if (!TIMESTAMP.test(input.timestamp) || !SIGNATURE.test(input.signature))
        return { ok: false, code: 'signature_invalid' };
      const expected = signRequest(input.secret.reveal(), { ...input, timestamp: input.timestamp });
      // The signature is checked before the window, so only a holder of the secret learns the
      // server's opinion of its clock.
      if (!constantTimeEqual(expected, input.signature)) return { ok: false, code: 'signature_invalid' };
      const nowSeconds = Math.floor(deps.clock.nowMs() / 1000);
      const timestampSeconds = Number(input.timestamp);
      if (Math.abs(nowSeconds - timestampSeconds) > SIGNATURE_WINDOW_SECONDS)
        return { ok: false, code: 'signature_expired' };
      // Kept until the timestamp leaves the window; after that the window check refuses it anyway.
      const inserted = await deps.db
        .insertInto('request_signatures')
        .values({
          api_key_id: input.apiKeyId,
          signature: input.signature,
          expires_at: (timestampSeconds + SIGNATURE_WINDOW_SECONDS + 1) * 1000,
        })
        .onConflict((oc) => oc.columns(['api_key_id', 'signature']).doNothing())
        .returning('signature')
        .executeTakeFirst();
      return inserted === undefined ? { ok: false, code: 'signature_replayed' } : { ok: true };
    },

    /** Drops signatures whose window has passed; run with the other periodic sweeps. */
    async purgeExpired(): Promise<number> {
      const result = await deps.db
        .deleteFrom('request_signatures')
        .where('expires_at', '<', deps.clock.nowMs())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type SignatureVerifier = ReturnType<typeof createSignatureVerifier>;
