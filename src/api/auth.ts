import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from '../errors.ts';
import type { ApiKeyPrincipal, ApiKeyService } from '../keys/api-keys.ts';
import type { Metrics } from '../metrics.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import type { RouteScope } from '../keys/scopes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyPrincipal;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this /v1 route (API-4). Every /v1 route must declare one. */
    scope?: RouteScope;
  }
}

/** onRequest guard for the merchant API: a valid, unrevoked secret key, then its rate limit (API-8). */
export function requireApiKey(deps: { keys: ApiKeyService; metrics: Metrics; limiter: RateLimiterAbstract }) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const header = request.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) {
      deps.metrics.authFailures.inc();
      throw new ApiError('api_key_missing');
    }
    const principal = await deps.keys.authenticate(header.slice('Bearer '.length).trim());
    if (principal === undefined) {
      deps.metrics.authFailures.inc();
      request.log.warn({ alert: 'api_auth_failure', ip: request.ip }, 'invalid API key presented');
      throw new ApiError('api_key_invalid');
    }
    try {
      const res = await deps.limiter.consume(principal.id);
      void reply.header('ratelimit-remaining', String(res.remainingPoints));
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      const waitMs = (rejection as { msBeforeNext?: number }).msBeforeNext ?? 1000;
      throw new ApiError('rate_limited', { headers: { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) } });
    }
    deps.metrics.apiRequests.inc({ key_id: principal.id, mode: principal.mode });
    request.apiKey = principal;
  };
}

export function contextOf(request: FastifyRequest): RequestContext {
  const key = request.apiKey;
  if (key === undefined) throw new Error('route is missing requireApiKey');
  return { mode: key.mode, apiKeyId: key.id, requestId: request.id, ip: request.ip };
}

/**
 * onRequest guard after requireApiKey (API-4): the route's declared scope must be among the key's.
 * A route that declares none is refused for every key (fail closed); the route-scopes test keeps
 * that from ever shipping.
 */
export function requireScope(deps: { metrics: Metrics }) {
  return async (request: FastifyRequest): Promise<void> => {
    if (request.is404) return;
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) {
      request.log.error({ route: request.routeOptions.url }, 'a /v1 route declares no scope; refusing it');
      throw new ApiError('internal_error');
    }
    const key = request.apiKey;
    if (key === undefined) throw new Error('requireScope runs after requireApiKey');
    if (!(key.scopes as ReadonlySet<string>).has(scope)) {
      deps.metrics.scopeRefusals.inc({ scope });
      throw new ApiError('scope_missing', {
        message: `This API key does not have the scope \`${scope}\` that this request needs. Create a key with it (keys create --scope ${scope}).`,
      });
    }
  };
}
