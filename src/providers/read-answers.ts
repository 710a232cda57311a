// The call shape the flows share: send, pass an indefinite outcome (timeout, 5xx, 429) through
// untouched, read the answer with the provider's pure transformer, and map what was read to the
// core's outcome. One place for the rule that matters: an answer we cannot read is never a
// definite failure (it is indefinite, so the job asks again), while "not found" and a definite
// refusal are passed on as such.
import type { Secret } from '../crypto/secret.ts';
import type { HttpOutcome } from '../http/outbound.ts';
import type { AccountLookupResult, VerifiedTransaction, VerifyOutcome } from './types.ts';

/** A verify answer as a transformer reads it; only some providers answer with a definite refusal. */
export type ParsedVerify =
  | { kind: 'found'; transaction: VerifiedTransaction }
  | { kind: 'not_found' }
  | { kind: 'rejected'; reason: string }
  | { kind: 'malformed'; reason: string };

/** An account-resolve answer as a transformer reads it. */
export type ParsedResolve =
  | { kind: 'ok'; accountNumber: string; accountName: string }
  | { kind: 'not_found'; reason: string }
  | { kind: 'malformed'; reason: string };

type ReadAnswer<T> = (httpStatus: number, body: string) => T;

/** Headers for the providers that take the secret key as a bearer token and speak JSON both ways
 * (Flutterwave, Paystack). Built per call, so the revealed key lives no longer than the request. */
export function bearerJsonHeaders(secretKey: Secret): Record<string, string> {
  return {
    authorization: `Bearer ${secretKey.reveal()}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };
}

function verifyOutcome(parsed: ParsedVerify): VerifyOutcome {
  if (parsed.kind === 'found') return { kind: 'ok', value: parsed.transaction };
  if (parsed.kind === 'not_found') return { kind: 'not_found' };
  if (parsed.kind === 'rejected') return { kind: 'rejected', reason: parsed.reason };
  // An answer we cannot read is not a definite failure: treat it as unknown and retry.
  return { kind: 'indefinite', reason: parsed.reason };
}

export function readVerifyAnswer(outcome: HttpOutcome, read: ReadAnswer<ParsedVerify>): VerifyOutcome {
  return outcome.kind === 'indefinite' ? outcome : verifyOutcome(read(outcome.response.status, outcome.response.body));
}

export function readResolveAnswer(outcome: HttpOutcome, read: ReadAnswer<ParsedResolve>): AccountLookupResult {
  if (outcome.kind === 'indefinite') return outcome;
  const parsed = read(outcome.response.status, outcome.response.body);
  if (parsed.kind === 'ok')
    return { kind: 'ok', value: { accountNumber: parsed.accountNumber, accountName: parsed.accountName } };
  if (parsed.kind === 'not_found') return parsed;
  return { kind: 'indefinite', reason: parsed.reason };
}
