// A local Stripe (Checkout Sessions): the same endpoints, form encoding, error envelope,
// idempotency and Stripe-Signature as the real API (shared/provider-wire-formats.md §3), a hosted
// checkout with Pay and Decline buttons, signed events, and the same /_sim/ control API and
// faults as the Flutterwave simulator (../README.md; Stripe specifics in ./README.md).
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { checkoutCsp, renderCheckout } from './checkout-page.ts';
import { parseSessionParams } from './session-params.ts';
import { createCheckoutFlow } from './checkout-flow.ts';
import { createState, newId, type Session, type SimulatorState } from './state.ts';
import { createSimulatorGate, sameSecret } from '../shared/api-gate.ts';
import { takeAnswerFaults, withAnswerFaults } from '../shared/answer-faults.ts';
import { registerControlApi } from '../shared/control-api.ts';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { listenSimulator } from '../shared/listen.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { registerConnect } from './connect.ts';
import { decodeForm, errorEnvelope, fingerprint, sessionObject, SIM_API_VERSION, type FormTree } from './wire.ts';

export interface StripeSimulatorOptions {
  readonly secretKey: string;
  readonly webhookSecret: string;
  readonly webhookUrl?: string;
  readonly publicBaseUrl?: string;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);
const LIST_QUERY = new Set(['limit', 'payment_intent', 'status', 'starting_after', 'ending_before']);

export function buildStripeSimulator(
  options: StripeSimulatorOptions,
): FastifyInstance & { simulatorState: SimulatorState } {
  const state = createState(options.webhookUrl);
  const sender = createWebhookSender(state, options.webhookSecret);
  const flow = createCheckoutFlow(state, sender);
  // forceCloseConnections: a `timeout` fault holds sockets open on purpose; closing must not wait.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  // Stripe's bodies nest with brackets, which @fastify/formbody does not read: keep the raw text
  // and decode it in the route, so a malformed body gets Stripe's envelope, not Fastify's.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1_048_576 },
    (_request, body, done) => done(null, body),
  );
  app.addHook('onClose', async () => {
    gate.releaseAll();
    connect.releaseAll();
    await sender.close();
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/v1/'))
      reply.header('stripe-version', SIM_API_VERSION).header('request-id', newId('req_'));
  });

  // ---- API authentication and faults, for every /v1 call -------------------------------------
  /** Bearer sk_…, or Basic with the key as user name and an empty password (curl -u sk_…:). */
  function presentedKey(header: string | undefined): string | undefined {
    if (header === undefined) return undefined;
    if (header.startsWith('Bearer ')) return header.slice(7);
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon < 0 ? decoded : decoded.slice(0, colon);
    }
    return undefined;
  }

  const gate = createSimulatorGate({
    faults: state.faults,
    authenticate(request) {
      const key = presentedKey(request.headers.authorization);
      if (key === undefined || key === '')
        return {
          status: 401,
          body: errorEnvelope(
            'invalid_request_error',
            'You did not provide an API key. Provide it in the Authorization header, using Bearer auth.',
          ),
        };
      // Never echo the key back, not even masked.
      if (!sameSecret(key, options.secretKey))
        return { status: 401, body: errorEnvelope('invalid_request_error', 'Invalid API Key provided.') };
      return undefined;
    },
    faultBody: (status) =>
      status === 429
        ? errorEnvelope('invalid_request_error', 'Request rate limit exceeded (simulated).', { code: 'rate_limit' })
        : errorEnvelope(
            'api_error',
            status === 500
              ? 'An unknown error occurred (simulated).'
              : 'The service is temporarily unavailable (simulated).',
          ),
  });
  const apiGate = gate.pass;
  const lost = createLostAnswerFaults(state.faults);

  /** A session as an API answer, with the verify faults applied (and its PaymentIntent when expanded). */
  function answer(session: Session, expandPaymentIntent = false): Record<string, unknown> {
    flow.expireIfDue(session);
    const faults = takeAnswerFaults(
      state.faults,
      session.clientReferenceId,
      { amountMinor: session.amountTotal, currency: session.currency.toUpperCase() },
      (currency) => (currency === 'USD' ? 'EUR' : 'USD'),
    );
    const object = sessionObject(session, {
      amountTotal: faults.amountMinor,
      currency: faults.currency.toLowerCase(),
      expandPaymentIntent,
    });
    return withAnswerFaults(object, faults);
  }

  const missing = (reply: FastifyReply, id: string) =>
    reply.code(404).send(
      errorEnvelope('invalid_request_error', `No such checkout.session: '${id.slice(0, 80)}'`, {
        code: 'resource_missing',
        param: 'session',
      }),
    );

  app.post('/v1/checkout/sessions', async (request, reply) => {
    let tree: FormTree;
    try {
      tree = decodeForm(typeof request.body === 'string' ? request.body : '');
    } catch (error) {
      if (!(await apiGate(request, reply, undefined))) return reply;
      return reply
        .code(400)
        .send(
          errorEnvelope(
            'invalid_request_error',
            `Invalid request body: ${error instanceof Error ? error.message : 'unreadable'}`,
          ),
        );
    }
    const txRef = typeof tree.client_reference_id === 'string' ? tree.client_reference_id : undefined;
    if (!(await apiGate(request, reply, txRef))) return reply;

    const idempotencyKey = request.headers['idempotency-key'];
    const key = typeof idempotencyKey === 'string' && idempotencyKey !== '' ? idempotencyKey : undefined;
    if (key !== undefined && key.length > 255)
      return reply.code(400).send(
        errorEnvelope('invalid_request_error', 'Idempotency-Key is longer than 255 characters.', {
          param: 'Idempotency-Key',
        }),
      );
    const print = fingerprint(tree);
    if (key !== undefined) {
      const saved = state.idempotency.get(key);
      if (saved !== undefined && saved.fingerprint !== print) {
        return reply
          .code(400)
          .send(
            errorEnvelope(
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
            ),
          );
      }
      if (saved !== undefined)
        return reply
          .code(saved.statusCode)
          .header('idempotent-replayed', 'true')
          .type('application/json')
          .send(saved.body);
    }

    const parsed = parseSessionParams(tree, nowSeconds());
    // Validation failures are not saved under the key (docs.stripe.com/idempotency).
    if (!parsed.ok)
      return reply.code(400).send(
        errorEnvelope('invalid_request_error', parsed.error.message, {
          ...(parsed.error.code === 'invalid_request' ? {} : { code: parsed.error.code }),
          param: parsed.error.param,
        }),
      );
    const created = nowSeconds();
    const id = newId('cs_test_');
    const base = options.publicBaseUrl ?? `http://${request.headers.host ?? '127.0.0.1'}`;
    const { expiresAt, ...params } = parsed.params;
    const session: Session = {
      ...params,
      id,
      hostedUrl: `${base}/c/pay/${id}`,
      paymentIntentId: newId('pi_'),
      mode: 'payment',
      status: 'open',
      payment_status: 'unpaid',
      payment_intent: null,
      piStatus: null,
      paymentMethod: null,
      created,
      expiresAt: expiresAt ?? created + 86_400,
    };
    state.sessions.set(id, session);
    const body = JSON.stringify(sessionObject(session));
    // lost_answer_*: the session is made and the answer never arrives. Stripe keeps the result under
    // the key: the object when the network lost it (reset, timeout), the 500 itself when Stripe
    // answered one (docs.stripe.com/idempotency: "including 500 errors").
    const lostAnswer = lost.takeLostAnswer(txRef);
    const failure = errorEnvelope('api_error', 'An unknown error occurred.');
    if (key !== undefined)
      state.idempotency.set(
        key,
        lostAnswer?.fault === 'lost_answer_500'
          ? { fingerprint: print, statusCode: 500, body: JSON.stringify(failure) }
          : { fingerprint: print, statusCode: 200, body },
      );
    if (lostAnswer !== undefined) return lost.loseAnswer(lostAnswer, request, reply, failure);
    return reply.type('application/json').send(body);
  });

  app.get<{ Querystring: Record<string, string | string[] | undefined> }>(
    '/v1/checkout/sessions',
    async (request, reply) => {
      const query = request.query;
      const unknown = Object.keys(query).find((k) => !LIST_QUERY.has(k) && !/^expand(\[\d*\])?$/.test(k));
      if (!(await apiGate(request, reply, undefined))) return reply;
      // Stripe refuses filters it does not have (client_reference_id is not one).
      if (unknown !== undefined)
        return reply.code(400).send(
          errorEnvelope('invalid_request_error', `Received unknown parameter: ${unknown.slice(0, 80)}`, {
            code: 'parameter_unknown',
            param: unknown.slice(0, 80),
          }),
        );
      const limit = query.limit === undefined ? 10 : Number(query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        return reply.code(400).send(
          errorEnvelope('invalid_request_error', 'Invalid integer: limit must be between 1 and 100.', {
            code: 'parameter_invalid_integer',
            param: 'limit',
          }),
        );
      // In a list, the session's PaymentIntent is `data.payment_intent` (Stripe refuses the bare path).
      const expand = expansions(query);
      const badPath = expand.find((path) => path !== 'data.payment_intent');
      if (badPath !== undefined) return cannotExpand(reply, badPath);
      const matching = [...state.sessions.values()]
        .filter((s) => query.payment_intent === undefined || s.payment_intent === query.payment_intent)
        .filter((s) => query.status === undefined || s.status === query.status)
        .reverse();
      return {
        object: 'list',
        data: matching.slice(0, limit).map((s) => answer(s, expand.length > 0)),
        has_more: matching.length > limit,
        url: '/v1/checkout/sessions',
      };
    },
  );

  /** `expand[]=a&expand[]=b` (or `expand[0]=a`): the paths asked for. */
  const expansions = (query: unknown): string[] =>
    Object.entries((query ?? {}) as Record<string, string | string[] | undefined>)
      .filter(([key]) => /^expand(\[\d*\])?$/.test(key))
      .flatMap(([, value]) => (Array.isArray(value) ? value : value === undefined ? [] : [value]));
  const cannotExpand = (reply: FastifyReply, path: string) =>
    reply.code(400).send(
      errorEnvelope('invalid_request_error', `This property cannot be expanded (${path.slice(0, 80)}).`, {
        param: 'expand',
      }),
    );

  app.get<{ Params: { id: string } }>('/v1/checkout/sessions/:id', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (!(await apiGate(request, reply, session?.clientReferenceId))) return reply;
    if (session === undefined) return missing(reply, request.params.id);
    const expand = expansions(request.query);
    const unknown = expand.find((path) => path !== 'payment_intent');
    if (unknown !== undefined) return cannotExpand(reply, unknown);
    return answer(session, expand.includes('payment_intent'));
  });

  app.post<{ Params: { id: string } }>('/v1/checkout/sessions/:id/expire', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (!(await apiGate(request, reply, session?.clientReferenceId))) return reply;
    if (session === undefined) return missing(reply, request.params.id);
    if (!flow.expire(session))
      return reply
        .code(400)
        .send(
          errorEnvelope(
            'invalid_request_error',
            `Only Checkout Sessions with a status in ["open"] can be expired. This session has status "${session.status}".`,
          ),
        );
    return sessionObject(session);
  });

  // ---- Hosted checkout -------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/c/pay/:id', async (request, reply) => {
    const session = state.sessions.get(request.params.id);
    if (session === undefined) return reply.code(404).type('text/plain').send('No such checkout session');
    flow.expireIfDue(session);
    return reply
      .header('content-security-policy', checkoutCsp(session))
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderCheckout(session));
  });

  for (const [action, outcome] of [
    ['pay', 'successful'],
    ['decline', 'failed'],
    ['debit', 'processing'],
  ] as const) {
    app.post<{ Params: { id: string } }>(`/c/pay/:id/${action}`, async (request, reply) => {
      const session = state.sessions.get(request.params.id);
      if (session === undefined) return reply.code(404).type('text/plain').send('No such checkout session');
      const done = flow.attempt(session, outcome);
      if (done === undefined)
        return reply.code(409).type('text/plain').send(`This checkout session is already ${session.status}.`);
      if (done.redirect === null)
        return reply
          .header('content-security-policy', checkoutCsp(session))
          .type('text/html; charset=utf-8')
          .send(renderCheckout(session));
      return reply.redirect(done.redirect, 302);
    });
  }

  // ---- Connect: transfers, payouts, accounts, balances (./README.md, "Connect") ---------------
  const connect = registerConnect(app, { state, sender, apiGate });

  // ---- Control API (the same for every simulator; ../README.md) --------------------------------
  registerControlApi(app, {
    faults: state.faults,
    // Our reference: the session's client_reference_id.
    scopeFields: ['tx_ref', 'reference', 'transfer_group'],
    webhooks: () => state.webhooks,
    transactions: () => [...state.sessions.values()].map((s) => sessionObject(s)),
    checkouts: () => [...state.sessions.values()].map((s) => ({ reference: s.clientReferenceId ?? '' })),
    configure(body) {
      if (body.webhookUrl !== undefined && typeof body.webhookUrl !== 'string')
        return { ok: false, error: 'webhookUrl: a URL string' };
      if (
        body.additionalWebhookSecret !== undefined &&
        body.additionalWebhookSecret !== null &&
        typeof body.additionalWebhookSecret !== 'string'
      )
        return { ok: false, error: 'additionalWebhookSecret: a whsec_ string or null' };
      const connectError = connect.configure(body);
      if (connectError !== undefined) return { ok: false, error: connectError };
      if (typeof body.webhookUrl === 'string') state.settings.webhookUrl = body.webhookUrl;
      if (body.additionalWebhookSecret !== undefined)
        state.settings.additionalWebhookSecret = body.additionalWebhookSecret as string | null;
      return {
        ok: true,
        settings: {
          webhookUrl: state.settings.webhookUrl ?? null,
          additionalWebhookSecret: state.settings.additionalWebhookSecret === null ? null : '[set]',
          payoutCompletion: connect.connect.settings.payoutCompletion,
        },
      };
    },
    // By event id (evt_…), or a session id (cs_…) for that session's latest event.
    resend(id) {
      const event = state.events.get(id) ?? [...state.events.values()].filter((e) => e.sessionId === id).at(-1);
      if (event === undefined) return { ok: false, status: 404, error: 'no such event or session' };
      return { ok: true, entry: sender.send(event, { badSignature: false }) ?? { error: 'no webhookUrl configured' } };
    },
    // successful | failed: a card paid or declined; processing: the delayed method started. On a
    // session whose delayed method is settling, successful | failed is the bank's answer.
    complete(txRef, status = 'successful') {
      if (status !== 'successful' && status !== 'failed' && status !== 'processing')
        return { ok: false, status: 400, error: 'status: successful | failed | processing' };
      const session = state.sessionFor(txRef);
      if (session === undefined) return { ok: false, status: 409, error: 'no open checkout with this tx_ref' };
      if (status !== 'processing' && flow.settle(session, status) !== undefined)
        return { ok: true, result: { ...sessionObject(session), redirect_url: null } };
      const done = flow.attempt(session, status);
      if (done === undefined) return { ok: false, status: 409, error: 'no open checkout with this tx_ref' };
      return { ok: true, result: { ...sessionObject(session), redirect_url: done.redirect } };
    },
    reset: () => {
      state.reset();
      connect.reset();
    },
    onClear: () => {
      gate.releaseAll();
      connect.releaseAll();
    },
    extraRoutes: connect.controlRoutes,
  });

  return Object.assign(app, { simulatorState: state });
}

export async function startStripeSimulator(
  options: StripeSimulatorOptions & { host?: string; port?: number },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  return listenSimulator(buildStripeSimulator(options), options.host, options.port);
}
