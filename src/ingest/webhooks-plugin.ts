// POST /webhooks/:provider. Encapsulated with its own body parser: the body stays the exact bytes
// received (signatures are over raw bytes; re-serialised JSON is the classic cause of "signature
// does not match"), capped in size, and never parsed before the signature is checked.
import type { FastifyInstance } from 'fastify';
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ProviderRegistry } from '../providers/registry.ts';
import { sendError } from '../http/errors-plugin.ts';
import type { createIngestService } from './ingest-service.ts';

export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

export interface WebhooksDeps {
  readonly providers: ProviderRegistry;
  readonly ingest: ReturnType<typeof createIngestService>;
  /**
   * Counts bad signatures per source address (WHI-6). Only failures are counted and only failures
   * are refused: behind shared egress or a proxy without a trusted-proxy setting, every provider's
   * traffic has one address, and a forger must never be able to block the genuine webhooks.
   */
  readonly badSignatureLimiter?: RateLimiterAbstract;
}

export async function webhooksPlugin(app: FastifyInstance, deps: WebhooksDeps): Promise<void> {
  const limiter = deps.badSignatureLimiter ?? new RateLimiterMemory({ points: 30, duration: 60, blockDuration: 300 });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.post<{ Params: { provider: string } }>('/:provider', async (request, reply) => {
    const handler = deps.providers.webhook(request.params.provider);
    if (handler === undefined) return sendError(reply, request, 'not_found', { message: 'No such provider.' });
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await deps.ingest.ingest(handler, rawBody, request.headers, request.ip);
    switch (result.kind) {
      case 'bad_signature': {
        // A late retry is signed with our secret: the sender is the provider, not an attacker.
        if (result.late) return sendError(reply, request, 'webhook_signature_invalid');
        // The signature is checked first (an HMAC over at most 256 KiB: cheap); a source that keeps
        // failing is slowed down, and only its failures are.
        const over = await limiter.consume(request.ip, 1).then(
          () => undefined,
          // Rejected with the limiter's answer when over the budget; with an Error when its store fails.
          (rejection: unknown) => (rejection instanceof RateLimiterRes ? rejection : undefined),
        );
        if (over !== undefined)
          return sendError(reply, request, 'rate_limited', {
            headers: { 'retry-after': String(Math.max(1, Math.ceil(over.msBeforeNext / 1000))) },
          });
        return sendError(reply, request, 'webhook_signature_invalid');
      }
      case 'bad_payload':
        // Signed by the provider but not a shape we know: 400 makes the provider retry, and the
        // delivery stays visible in the provider's dashboard and our logs.
        return sendError(reply, request, 'invalid_request', {
          message: `The webhook payload is not valid: ${result.reason}.`,
        });
      case 'source_not_allowed':
        return sendError(reply, request, 'webhook_source_not_allowed');
      case 'duplicate':
        return reply.code(200).send({ received: true, duplicate: true });
      case 'stored':
        return reply.code(200).send({ received: true });
    }
  });
}
