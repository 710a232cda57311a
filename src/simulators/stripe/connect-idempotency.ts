// Stripe's idempotency for the Connect calls, with the semantics real integrations trip over
// (docs.stripe.com/idempotency; provider-wire-formats.md §3.2; payouts-research.md §1.4, §2 #7, #9):
// - keys are scoped to the account making the request (the platform, or the Stripe-Account);
// - the first request's status and body are saved once execution begins, INCLUDING errors raised
//   while executing (balance_insufficient, a 500): a retry with the key replays them;
// - refused parameters (validation, before execution) are not saved;
// - the same key with other parameters, or on another endpoint, is 400 idempotency_error;
// - a repeat while the first is still executing is 409 (not saved: retry later);
// - keys are pruned after 24 hours: the same key then runs the request again.
import type { FastifyReply } from 'fastify';
import { type ConnectState, IDEMPOTENCY_RETENTION_SECONDS } from './connect-state.ts';
import { errorEnvelope, fingerprint, type FormTree } from './wire.ts';

export type IdempotencyStart =
  | { readonly kind: 'answered' }
  | {
      readonly kind: 'run';
      /** Saves the answer under the key (once execution began) and sends it. */
      save(statusCode: number, body: unknown): string;
      /** Ends the in-flight mark without saving (a validation refusal). */
      release(): void;
      readonly key: string | undefined;
    };

export function createConnectIdempotency(connect: ConnectState) {
  return {
    /**
     * Checks the Idempotency-Key of a POST. Answers the request itself (a replay, a mismatch, a
     * concurrent repeat, a key too long) and returns 'answered', or says to run it.
     */
    async start(
      reply: FastifyReply,
      headerValue: string | string[] | undefined,
      account: string,
      endpoint: string,
      params: FormTree,
    ): Promise<IdempotencyStart> {
      const key = typeof headerValue === 'string' && headerValue !== '' ? headerValue : undefined;
      const passthrough: IdempotencyStart = {
        kind: 'run',
        key: undefined,
        save: (_status, body) => JSON.stringify(body),
        release: () => undefined,
      };
      if (key === undefined) return passthrough;
      if (key.length > 255) {
        await reply.code(400).send(
          errorEnvelope('invalid_request_error', 'Idempotency-Key is longer than 255 characters.', {
            param: 'Idempotency-Key',
          }),
        );
        return { kind: 'answered' };
      }
      const scoped = `${account}\u0000${key}`;
      const print = fingerprint(params);
      const now = connect.nowSeconds();
      const saved = connect.idempotency.get(scoped);
      if (saved !== undefined && now - saved.createdSeconds >= IDEMPOTENCY_RETENTION_SECONDS)
        connect.idempotency.delete(scoped);
      const record = connect.idempotency.get(scoped);
      if (record !== undefined) {
        if (record.endpoint !== endpoint) {
          await reply
            .code(400)
            .send(
              errorEnvelope(
                'idempotency_error',
                `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${record.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
              ),
            );
          return { kind: 'answered' };
        }
        if (record.fingerprint !== print) {
          await reply
            .code(400)
            .send(
              errorEnvelope(
                'idempotency_error',
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
              ),
            );
          return { kind: 'answered' };
        }
        await reply
          .code(record.statusCode)
          .header('idempotent-replayed', 'true')
          .header('idempotency-key', key)
          .type('application/json')
          .send(record.body);
        return { kind: 'answered' };
      }
      if (connect.inFlight.has(scoped)) {
        await reply
          .code(409)
          .send(
            errorEnvelope(
              'invalid_request_error',
              `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
              { code: 'idempotency_key_in_use' },
            ),
          );
        return { kind: 'answered' };
      }
      connect.inFlight.add(scoped);
      reply.header('idempotency-key', key);
      return {
        kind: 'run',
        key,
        save(statusCode, body) {
          const text = JSON.stringify(body);
          connect.inFlight.delete(scoped);
          connect.idempotency.set(scoped, {
            endpoint,
            fingerprint: print,
            createdSeconds: now,
            statusCode,
            body: text,
          });
          return text;
        },
        release() {
          connect.inFlight.delete(scoped);
        },
      };
    },
  };
}

export type ConnectIdempotency = ReturnType<typeof createConnectIdempotency>;
