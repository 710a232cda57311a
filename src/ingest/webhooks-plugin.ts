// POST /webhooks/:provider. Encapsulated with its own body parser: the body stays the exact bytes
// received (signatures are over raw bytes; re-serialised JSON is the classic cause of "signature
// does not match"), capped in size, and never parsed before the signature is checked.
import type { FastifyInstance } from 'fastify';
import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ProviderRegistry } from '../providers/registry.ts';
import { sendError } from '../http/errors-plugin.ts';
import type { createIngestService } from './ingest-service.ts';

export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

export interface WebhooksDeps {
  readonly providers: ProviderRegistry;
  readonly ingest: ReturnType<typeof createIngestService>;
  /** Counts bad signatures per source IP; valid provider traffic is never throttled (WHI-6). */
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
    const blocked = await limiter.get(request.ip);
    if (blocked !== null && blocked.remainingPoints <= 0) {
      return sendError(reply, request, 'rate_limited', {
        headers: { 'retry-after': String(Math.max(1, Math.ceil(blocked.msBeforeNext / 1000))) },
      });
    }
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await deps.ingest.ingest(handler, rawBody, request.headers, request.ip);
    switch (result.kind) {
      case 'bad_signature':
        // A late retry is signed with our secret: the sender is the provider, not an attacker.
        if (!result.late) await limiter.penalty(request.ip, 1).catch(() => undefined);
        return sendError(reply, request, 'webhook_signature_invalid');
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
