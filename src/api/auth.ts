// The /v1 guards, in the order the plugin runs them:
//   requireApiKey (onRequest): a valid key that is neither revoked nor expired, a secret key never
//     from a browser (API-1), a publishable key only from the configured origins, the key's address
//     allowlist (API-6), then its rate limit (API-8);
//   requireScope (onRequest): the route's declared scope (API-4);
//   requireSignature (preValidation, once the body is read): the key's request signature (API-5).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { ApiError } from '../errors.ts';
import type { ApiKeyPrincipal, ApiKeyService } from '../keys/api-keys.ts';
import type { Metrics } from '../metrics.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import { PUBLISHABLE_SCOPE, type RouteScope } from '../keys/scopes.ts';
import { createAddressMatcher } from '../net/addresses.ts';
import type { SignatureVerifier } from '../keys/request-signing.ts';

declare module 'fastify' {
  interface FastifyRequest {
    apiKey?: ApiKeyPrincipal;
    /** The body exactly as received, for request signatures (set by the /v1 JSON parser). */
    rawBody?: Buffer;
  }
  interface FastifyContextConfig {
    /** The scope a key needs for this /v1 route (API-4). Every /v1 route must declare one. */
    scope?: RouteScope;
  }
}

const FAILURE_CODE = { invalid: 'api_key_invalid', expired: 'api_key_expired', revoked: 'api_key_revoked' } as const;

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The key from `Authorization: Bearer`, or `X-API-KEY` (signed requests), or for the publishable route only, `?key=`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = header(request, 'authorization');
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length).trim();
  const apiKey = header(request, 'x-api-key');
  if (apiKey !== undefined) return apiKey.trim();
  // A browser's GET without custom headers needs no CORS preflight (OPTIONS stays refused, NET-3).
  if (request.routeOptions.config.scope === PUBLISHABLE_SCOPE) {
    const key = (request.query as { key?: unknown } | undefined)?.key;
    // Only a publishable key may travel in a URL; a secret one there is treated as absent.
    if (typeof key === 'string' && key.startsWith('pk_')) return key;
  }
  return undefined;
}

export function requireApiKey(deps: {
  keys: ApiKeyService;
  metrics: Metrics;
  limiter: RateLimiterAbstract;
  /** Origins a publishable key may be used from (`PAYWARDEN_PUBLISHABLE_KEY_ORIGINS`). */
  publishableOrigins: readonly string[];
}) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const presented = presentedKey(request);
    if (presented === undefined) {
      deps.metrics.authFailures.inc();
      throw new ApiError('api_key_missing');
    }
    const result = await deps.keys.authenticate(presented);
    if (!result.ok) {
      deps.metrics.authFailures.inc();
      request.log.warn({ alert: 'api_auth_failure', reason: result.reason, ip: request.ip }, 'API key refused');
      throw new ApiError(FAILURE_CODE[result.reason]);
    }
    const principal = result.principal;
    const origin = header(request, 'origin');
    if (principal.kind === 'secret' && origin !== undefined) {
      // A browser sent it: the key is in the page, so anyone can read it. Refused before any work.
      deps.metrics.authFailures.inc();
      request.log.warn(
        { alert: 'secret_key_from_browser', keyId: principal.id, origin: origin.slice(0, 200) },
        'secret key sent from a browser',
      );
      throw new ApiError('secret_key_from_browser');
    }
    if (principal.kind === 'publishable' && origin !== undefined) {
      if (!deps.publishableOrigins.includes(origin)) throw new ApiError('origin_not_allowed');
      void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    }
    if (principal.allowedNetworks.length > 0 && !createAddressMatcher(principal.allowedNetworks)(request.ip)) {
      deps.metrics.addressRefusals.inc({ mode: principal.mode });
      request.log.warn(
        { alert: 'api_key_address_refused', keyId: principal.id, ip: request.ip },
        'API key used from an address outside its allowlist',
      );
      throw new ApiError('address_not_allowed');
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
    if (!key.scopes.has(scope)) {
      deps.metrics.scopeRefusals.inc({ scope });
      throw new ApiError('scope_missing', {
        message: `This API key does not have the scope \`${scope}\` that this request needs. Create a key with it (keys create --scope ${scope}).`,
      });
    }
  };
}

/**
 * preValidation guard (API-5): a key with a signing secret must sign every request, over the body
 * exactly as received; a live key that can write payouts must have one (keys made so are signed
 * from creation, so this only bites a key whose rules changed under it).
 */
export function requireSignature(deps: { verifier: SignatureVerifier; metrics: Metrics }) {
  return async (request: FastifyRequest): Promise<void> => {
    const key = request.apiKey;
    if (key === undefined) return;
    const timestamp = header(request, 'x-timestamp');
    const signature = header(request, 'x-signature');
    if (key.signingSecret === undefined) {
      if (key.mode === 'live' && key.scopes.has('payouts:write')) throw new ApiError('signature_required');
      if (signature !== undefined)
        throw new ApiError('signature_invalid', { message: 'This key has no signing secret; send no X-SIGNATURE.' });
      return;
    }
    const check = await deps.verifier.verify({
      apiKeyId: key.id,
      secret: key.signingSecret,
      timestamp,
      signature,
      method: request.method,
      pathWithQuery: request.url,
      body: request.rawBody ?? Buffer.alloc(0),
    });
    if (!check.ok) {
      deps.metrics.signatureRefusals.inc({ reason: check.code });
      request.log.warn(
        { alert: 'api_signature_refused', keyId: key.id, reason: check.code, ip: request.ip },
        'signed request refused',
      );
      throw new ApiError(check.code);
    }
  };
}

export function contextOf(request: FastifyRequest): RequestContext {
  const key = request.apiKey;
  if (key === undefined) throw new Error('route is missing requireApiKey');
  const context = { mode: key.mode, apiKeyId: key.id, requestId: request.id, ip: request.ip };
  return request.idempotencyClaim?.takenOver === true ? { ...context, retriesLostAnswer: true } : context;
}
