// The operator dashboard, encapsulated under /dashboard: its own cookies, form parsing, headers,
// error pages and guards, none of which touch the merchant API or the provider webhooks.
//
// Layers on every request:
//  - response hardening: strict CSP (no inline script or style), no-store, no framing (security.ts)
//  - state-changing requests: same-origin by Sec-Fetch-Site or Origin (before the body is read),
//    then, once signed in, the per-session CSRF token in the form (OPS-9); the session cookie is
//    SameSite=Strict on top
//  - signed-in routes: the session cookie validated on the server (idle and absolute timeouts,
//    one session per operator); a session that ended sends its holder to sign-in with the reason
import { readFileSync } from 'node:fs';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';
import type { Mode } from '../db/schema.ts';
import { withRequestMeta } from '../audit/audit.ts';
import {
  COOKIE_ATTRIBUTES,
  MODE_COOKIE,
  requestMetaOf,
  sendMessage,
  SESSION_COOKIE,
  type DashboardDeps,
} from './context.ts';
import { actionRoutes } from './routes/action-routes.ts';
import { keyRoutes } from './routes/key-routes.ts';
import { customerRoutes } from './routes/customer-routes.ts';
import { payoutBatchRoutes } from './routes/batch-routes.ts';
import { pageRoutes } from './routes/page-routes.ts';
import { payoutRoutes } from './routes/payout-routes.ts';
import { settingsRoutes } from './routes/settings-routes.ts';
import { approvalRoutes } from './routes/approval-routes.ts';
import { signInRoutes } from './routes/sign-in-routes.ts';
import { incidentRoutes } from './routes/incident-routes.ts';
import { checkSameOrigin, DASHBOARD_HEADERS } from './security.ts';
import { createAddressMatcher } from '../net/addresses.ts';
import { createHostMatcher } from '../net/host-allowlist.ts';
import { describeForbidden, FREE_TEXT_KEYWORD } from '../text/free-text.ts';

const STYLESHEET = readFileSync(new URL('./assets/app.css', import.meta.url), 'utf8');
const PASSKEY_SCRIPT = readFileSync(new URL('./assets/passkey.js', import.meta.url), 'utf8');

export async function dashboardPlugin(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  app.decorateRequest('signedIn', null);
  const configuredOrigin = new URL(deps.publicUrl).origin;
  // OPS-11: outside the trusted networks the dashboard does not exist: every path answers 404.
  const allowedNetworks = deps.allowedNetworks;
  const fromTrustedNetwork = allowedNetworks === undefined ? () => true : createAddressMatcher(allowedNetworks);

  const atOwnHost = createHostMatcher(deps.hosts);

  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(DASHBOARD_HEADERS);
    // request.ip is the client's address, or the trusted proxy's X-Forwarded-For when configured.
    if (!fromTrustedNetwork(request.ip)) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    // Only at the configured host names (src/net/host-allowlist.ts), before anything is rendered;
    // request.host is the trusted proxy's X-Forwarded-Host when one is configured.
    if (!atOwnHost(request.host)) {
      request.log.warn({ host: request.host.slice(0, 100) }, 'dashboard: request for another host refused');
      return reply
        .code(421)
        .type('text/plain; charset=utf-8')
        .send('Misdirected request: the dashboard is not served at this host name (PAYWARDEN_DASHBOARD_HOSTS).');
    }
    if (request.method !== 'POST') return;
    // Our origin is the configured public URL, or the one this request was addressed to; a
    // cross-site form names the attacker's origin in either case and is refused here.
    const own = checkSameOrigin(request, configuredOrigin);
    const addressed = checkSameOrigin(request, `${request.protocol}://${request.host}`);
    if (!own.ok && !addressed.ok) {
      request.log.warn(
        { reason: own.reason, origin: request.headers.origin, site: request.headers['sec-fetch-site'] },
        'dashboard: cross-site request refused',
      );
      return sendMessage(
        request,
        reply,
        403,
        'Request refused',
        'This request did not come from a dashboard page, so it was refused.',
      );
    }
  });

  // Every audit row written while a handler runs carries this request's id, address and user
  // agent (LOG-1). A callback-style hook, so the rest of the request runs inside the context.
  app.addHook('preHandler', (request, _reply, done) => withRequestMeta(requestMetaOf(request), done));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation !== undefined) {
      const first = error.validation[0];
      const field = first?.instancePath.replace(/^\//, '') || error.validationContext || 'input';
      if (first?.keyword === FREE_TEXT_KEYWORD)
        return sendMessage(
          request,
          reply,
          400,
          'Not accepted',
          `${describeForbidden(field, first.params as { codePoint: number; index: number })} Go back and remove it.`,
        );
      return sendMessage(
        request,
        reply,
        400,
        'Not accepted',
        `The form was not valid (${field}). Go back and check it.`,
      );
    }
    if (error instanceof ApiError) return sendMessage(request, reply, error.status, 'Not accepted', error.message);
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500)
      return sendMessage(request, reply, error.statusCode, 'Not accepted', 'The request could not be read.');
    request.log.error({ err: error }, 'dashboard request failed');
    return sendMessage(
      request,
      reply,
      500,
      'Something went wrong',
      'Something went wrong on our side; nothing was changed by this request unless its page said so. Quote the request id when reporting it.',
    );
  });
  app.setNotFoundHandler((request, reply) =>
    sendMessage(request, reply, 404, 'Not found', 'There is no such dashboard page.'),
  );

  app.get('/assets/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').send(STYLESHEET));
  app.get('/assets/passkey.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(PASSKEY_SCRIPT),
  );

  await app.register(async (open) => signInRoutes(open, deps));

  await app.register(async (secured) => {
    secured.addHook('preHandler', async (request, reply) => requireOperator(deps, request, reply));
    pageRoutes(secured, deps);
    payoutRoutes(secured, deps);
    actionRoutes(secured, deps);
    keyRoutes(secured, deps);
    customerRoutes(secured, deps);
    settingsRoutes(secured, deps);
    approvalRoutes(secured, deps);
    incidentRoutes(secured, deps);
    // Its own context: the multipart parser of the file upload exists for these routes only.
    await secured.register(async (files) => payoutBatchRoutes(files, deps));
  });
}

async function requireOperator(
  deps: DashboardDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  const token = request.cookies[SESSION_COOKIE] ?? '';
  const check = token === '' ? ({ ok: false, reason: 'none' } as const) : await deps.operators.authenticate(token);
  if (!check.ok) {
    if (token !== '') void reply.clearCookie(SESSION_COOKIE, COOKIE_ATTRIBUTES);
    // The reason is shown on the sign-in page ("signed in somewhere else", "idle"), OPS-7.
    return reply.redirect(check.reason === 'none' ? '/dashboard/login' : `/dashboard/login?ended=${check.reason}`, 303);
  }
  const csrfToken = deps.operators.sessions.csrfTokenFor(token) ?? '';
  if (request.method === 'POST') {
    const presented = (request.body as { csrf_token?: unknown } | undefined)?.csrf_token;
    if (typeof presented !== 'string' || !deps.operators.sessions.verifyCsrf(token, presented)) {
      request.log.warn('dashboard: CSRF token missing or wrong');
      return sendMessage(
        request,
        reply,
        403,
        'Request refused',
        'This form is out of date or did not come from your session. Reload the page and try again.',
      );
    }
  }
  const modeCookie = request.cookies[MODE_COOKIE];
  const mode: Mode = modeCookie === 'live' && deps.liveEnabled ? 'live' : 'test';
  request.signedIn = {
    operator: check.operator,
    session: check.session,
    csrfToken,
    mode,
    liveEnabled: deps.liveEnabled,
  };
  return undefined;
}
