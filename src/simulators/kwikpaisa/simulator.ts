// A local KwikPaisa v3 payment gateway: the same endpoints, payloads and signatures as the real
// API (shared/provider-wire-formats.md §4), a hosted checkout with Pay and Decline buttons, signed
// webhooks, and the same /_sim/ control API and faults as the Flutterwave simulator (README.md
// here and ../README.md). Where the docs were cut off, the behaviour is ours and says so.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { checkoutCsp, renderCheckout } from './checkout-page.ts';
import { createState, orderKey, type Order, type SimulatorState } from './state.ts';
import { createSimulatorGate, sameSecret } from '../shared/api-gate.ts';
import { takeAnswerFaults, withAnswerFaults } from '../shared/answer-faults.ts';
import { registerControlApi } from '../shared/control-api.ts';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { listenSimulator } from '../shared/listen.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { registerKwikPaisaPayouts } from './payout-control.ts';
import {
  createData,
  errorEnvelope,
  kwikPaisaSignature,
  readOrderAmountMinor,
  sortedJson,
  statusData,
  type WebhookEventName,
} from './wire.ts';

export interface KwikPaisaSimulatorOptions {
  readonly apiKey: string;
  readonly secretKey: string;
  readonly webhookUrl?: string;
  readonly publicBaseUrl?: string;
  /** The simulator's clock (default Date.now), for X-TIMESTAMP checks and webhook timestamps. */
  readonly nowMs?: () => number;
  /** The `kwikx_wallet_id` payouts must name (default SIM_WALLET_ID in payouts.ts). */
  readonly walletId?: string;
}

const same = sameSecret;
const firstHeader = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

type JsonBody = { raw: string; parsed: unknown; valid: boolean };

export function buildKwikPaisaSimulator(
  options: KwikPaisaSimulatorOptions,
): FastifyInstance & { simulatorState: SimulatorState } {
  const nowMs = options.nowMs ?? (() => Date.now());
  const state = createState(options.webhookUrl);
  const sender = createWebhookSender(state, options.secretKey, nowMs);
  const bodies = new WeakMap<object, JsonBody>();
  // forceCloseConnections: a `timeout` fault holds sockets open on purpose; closing must not wait.
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true }, forceCloseConnections: true });
  void app.register(formbody);
  // JSON is read as text first: the signature check needs the raw bytes as well as the parsed body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const raw = typeof body === 'string' ? body : body.toString('utf8');
    let parsed: unknown;
    let valid = true;
    try {
      parsed = raw === '' ? {} : JSON.parse(raw);
    } catch {
      valid = false;
    }
    bodies.set(request, { raw, parsed, valid });
    done(null, valid ? parsed : undefined);
  });
  app.addHook('onClose', async () => {
    gate.releaseAll();
    await sender.close();
  });

  // ---- Authentication (§4.1, §4.2) and API faults, for every /api/v3 call ----------------------
  function authenticate(request: FastifyRequest): string | undefined {
    const apiKey = firstHeader(request.headers['x-api-key']);
    const timestamp = firstHeader(request.headers['x-timestamp']);
    const signature = firstHeader(request.headers['x-signature']);
    // Only "Invalid signature." is a documented message (§4.5); the others are ours. All are 401.
    if (apiKey === undefined || timestamp === undefined || signature === undefined)
      return 'Missing authentication headers.';
    if (!same(apiKey, options.apiKey)) return 'Invalid API key.';
    if (
      !/^\d{1,12}$/.test(timestamp) ||
      Math.abs(Math.floor(nowMs() / 1000) - Number(timestamp)) > state.settings.timestampToleranceSeconds
    )
      return 'Request timestamp expired.';
    const body = bodies.get(request) ?? { raw: '', parsed: {}, valid: true };
    const sort = state.settings.requestSignatureSort;
    // Bodyless requests: how they are signed is undocumented; here the payload is "{}".
    const payloads = new Set<string>();
    if (sort === 'recursive' || sort === 'any') payloads.add(sortedJson(body.parsed ?? {}, 'recursive'));
    if (sort === 'top-level' || sort === 'any') payloads.add(sortedJson(body.parsed ?? {}, 'top-level'));
    if (sort === 'any' && body.raw !== '') payloads.add(body.raw);
    let ok = false;
    for (const payload of payloads)
      if (same(signature.toLowerCase(), kwikPaisaSignature(payload, timestamp, options.secretKey))) ok = true;
    return ok ? undefined : 'Invalid signature.';
  }

  const gate = createSimulatorGate({
    faults: state.faults,
    authenticate(request) {
      const body = bodies.get(request);
      if (body !== undefined && !body.valid) return { status: 400, body: errorEnvelope(400, 'Invalid JSON body.') };
      const failure = authenticate(request);
      return failure === undefined ? undefined : { status: 401, body: errorEnvelope(401, failure) };
    },
    faultBody: (status) =>
      errorEnvelope(
        status,
        status === 500 ? 'Internal server error.' : status === 503 ? 'Service unavailable.' : 'Too many requests.',
      ),
  });
  const apiGate = (request: FastifyRequest, reply: FastifyReply) => gate.pass(request, reply, scopeOf(request.body));

  const scopeOf = (body: unknown): string | undefined => {
    const id = typeof body === 'object' && body !== null ? (body as Record<string, unknown>).order_id : undefined;
    return typeof id === 'string' || typeof id === 'number' ? orderKey(id) : undefined;
  };
  const publicBase = (request: FastifyRequest) =>
    options.publicBaseUrl ?? `http://${request.headers.host ?? '127.0.0.1'}`;

  const lost = createLostAnswerFaults(state.faults);
  app.post('/api/v3/pg/order/create', async (request, reply) => {
    if (!(await apiGate(request, reply))) return reply;
    // biome-ignore lint/suspicious/noExplicitAny: the fields are checked one by one below, as the provider does
    const body = (request.body ?? {}) as Record<string, any>;
    const invalid = (message: string) => reply.code(422).send(errorEnvelope(422, message));
    const orderId = body.order_id;
    if (
      !(
        (typeof orderId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(orderId)) ||
        (typeof orderId === 'number' && Number.isSafeInteger(orderId) && orderId > 0)
      )
    )
      return invalid('The order id field is required.');
    const amountMinor = readOrderAmountMinor(body.order_amount);
    if (amountMinor === undefined)
      return invalid(
        typeof body.order_amount === 'string'
          ? 'The order amount must be a number.'
          : 'The order amount must be a positive amount with at most two decimals.',
      );
    if (body.order_currency !== 'INR') return invalid('The selected order currency is invalid.');
    if (typeof body.service_type !== 'string' || body.service_type === '')
      return invalid('The service type field is required.');
    const customer = body.customer;
    for (const field of ['name', 'email', 'phone'] as const) {
      if (typeof customer?.[field] !== 'string' || customer[field] === '')
        return invalid(`The customer.${field} field is required.`);
    }
    if (typeof body.return_url !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.return_url))
      return invalid('The return url must be a valid URL.');
    try {
      new URL(body.return_url);
    } catch {
      return invalid('The return url must be a valid URL.');
    }
    if (body.order_note !== undefined && typeof body.order_note !== 'string')
      return invalid('The order note must be a string.');
    if (state.orders.has(orderKey(orderId)))
      return reply.code(409).send(errorEnvelope(409, 'Duplicate request: this order id already exists.'));
    const order: Order = {
      token: state.newToken(),
      kwikxOrderId: state.newKwikxOrderId(),
      orderId,
      amountMinor,
      currency: 'INR',
      note: typeof body.order_note === 'string' ? body.order_note : null,
      serviceType: body.service_type,
      returnUrl: body.return_url,
      customer: { name: customer.name, email: customer.email, phone: customer.phone },
      status: 'UN_PAID',
      transactionId: null,
      paymentMethod: null,
      createdAt: new Date(nowMs()),
      paidAt: null,
    };
    state.orders.set(orderKey(orderId), order);
    state.ordersByToken.set(order.token, order);
    // lost_answer_*: the order is made and the answer never arrives (../README.md).
    const lostAnswer = lost.takeLostAnswer(orderKey(orderId));
    if (lostAnswer !== undefined)
      return lost.loseAnswer(lostAnswer, request, reply, errorEnvelope(500, 'Internal server error.'));
    return {
      code: '200',
      status: 'success',
      message: 'Order created successfully.',
      return_data: createData(order, `${publicBase(request)}/checkout/${order.token}`),
    };
  });

  app.post('/api/v3/pg/order/status', async (request, reply) => {
    if (!(await apiGate(request, reply))) return reply;
    const key = scopeOf(request.body);
    const order = key === undefined ? undefined : state.orders.get(key);
    if (order === undefined) return reply.code(404).send(errorEnvelope(404, 'Transaction not found.'));
    const faults = takeAnswerFaults(state.faults, key, { amountMinor: order.amountMinor, currency: order.currency });
    const data = statusData(order, { amountMinor: faults.amountMinor, currency: faults.currency });
    return {
      code: '200',
      status: 'success',
      message: 'Order status fetched successfully.',
      return_data: withAnswerFaults(data, faults),
    };
  });

  // ---- Hosted checkout -------------------------------------------------------------------------
  app.get<{ Params: { token: string } }>('/checkout/:token', async (request, reply) => {
    const order = state.ordersByToken.get(request.params.token);
    if (order === undefined) return reply.code(404).type('text/plain').send('No such checkout');
    return reply
      .header('content-security-policy', checkoutCsp(order.returnUrl))
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .type('text/html; charset=utf-8')
      .send(renderCheckout(order));
  });

  function complete(key: string, outcome: 'PAID' | 'FAILED'): { order: Order; redirect: string } | undefined {
    const order = state.orders.get(key);
    if (order === undefined || order.status !== 'UN_PAID') return undefined;
    order.status = outcome;
    order.transactionId = `TXN${state.nextTransaction++}`;
    order.paymentMethod = 'UPI';
    if (outcome === 'PAID') order.paidAt = new Date(nowMs());
    const event: WebhookEventName = outcome === 'PAID' ? 'payment.success' : 'payment.failed';
    // out_of_order: an earlier failed attempt's payment.failed arrives after the success.
    const outOfOrder = outcome === 'PAID' ? state.faults.take(['out_of_order'], key) : undefined;
    if (state.faults.take(['no_webhook'], key) === undefined) {
      const duplicate = state.faults.take(['duplicate_webhook'], key);
      const badSignature = state.faults.take(['bad_signature'], key) !== undefined;
      const sequence = [
        { order, event },
        ...(outOfOrder === undefined ? [] : [{ order, event: 'payment.failed' as const }]),
      ];
      setImmediate(
        () =>
          void sender.sendSequence(sequence, {
            badSignature,
            copies: duplicate === undefined ? 1 : (duplicate.value ?? 5),
          }),
      );
    }
    // The return URL's query is undocumented for v3; these names are ours.
    const redirect = new URL(order.returnUrl);
    redirect.searchParams.set('order_id', String(order.orderId));
    redirect.searchParams.set('order_status', outcome);
    return { order, redirect: redirect.toString() };
  }

  for (const [action, outcome] of [
    ['pay', 'PAID'],
    ['decline', 'FAILED'],
  ] as const) {
    app.post<{ Params: { token: string } }>(`/checkout/:token/${action}`, async (request, reply) => {
      const order = state.ordersByToken.get(request.params.token);
      if (order === undefined) return reply.code(404).type('text/plain').send('No such checkout');
      const done = complete(orderKey(order.orderId), outcome);
      if (done === undefined) return reply.code(409).type('text/plain').send(`This order is already ${order.status}.`);
      return reply.redirect(done.redirect, 302);
    });
  }

  // ---- Payouts (./README.md, "Payouts") ---------------------------------------------------------
  const payouts = registerKwikPaisaPayouts(app, {
    state,
    gate,
    secretKey: options.secretKey,
    nowMs,
    ...(options.walletId === undefined ? {} : { walletId: options.walletId }),
  });

  // ---- Control API (the same for every simulator; ../README.md) --------------------------------
  registerControlApi(app, {
    faults: state.faults,
    // `order_id` scopes a fault to one order; `tx_ref` is accepted as its alias.
    scopeFields: ['order_id', 'tx_ref', 'payout_order_id', 'reference'],
    webhooks: () => state.webhooks,
    transactions: () =>
      [...state.orders.values()].map((order) => ({ ...statusData(order), payment_link_token: order.token })),
    checkouts: () => [...state.orders.values()].map((order) => ({ reference: String(order.orderId) })),
    configure(body) {
      if (
        body.requestSignatureSort !== undefined &&
        !['recursive', 'top-level', 'any'].includes(String(body.requestSignatureSort))
      )
        return { ok: false, error: 'requestSignatureSort: recursive | top-level | any' };
      if (
        body.webhookBodySort !== undefined &&
        !['recursive', 'top-level', 'none'].includes(String(body.webhookBodySort))
      )
        return { ok: false, error: 'webhookBodySort: recursive | top-level | none' };
      if (
        body.timestampToleranceSeconds !== undefined &&
        !(Number.isInteger(body.timestampToleranceSeconds) && (body.timestampToleranceSeconds as number) > 0)
      )
        return { ok: false, error: 'timestampToleranceSeconds: a whole number > 0' };
      if (body.webhookTimestampOffsetSeconds !== undefined && !Number.isInteger(body.webhookTimestampOffsetSeconds))
        return { ok: false, error: 'webhookTimestampOffsetSeconds: a whole number' };
      if (body.webhookUrl !== undefined && typeof body.webhookUrl !== 'string')
        return { ok: false, error: 'webhookUrl: a URL' };
      const payoutError = payouts.configure(body);
      if (payoutError !== undefined) return { ok: false, error: payoutError };
      Object.assign(state.settings, Object.fromEntries(Object.entries(body).filter(([k]) => k in state.settings)));
      return { ok: true, settings: { ...state.settings, ...payouts.settings() } };
    },
    resend(orderId) {
      const order = state.orders.get(orderId);
      if (order === undefined) return { ok: false, status: 404, error: 'no such order' };
      if (order.status === 'UN_PAID') return { ok: false, status: 409, error: 'the order is not paid or declined yet' };
      return {
        ok: true,
        entry: sender.send(order, order.status === 'PAID' ? 'payment.success' : 'payment.failed', {
          badSignature: false,
        }) ?? { error: 'no webhookUrl configured' },
      };
    },
    complete(orderId, status = 'PAID') {
      // KwikPaisa's words (PAID, FAILED) or the Flutterwave simulator's (successful, failed).
      const outcome =
        status === 'PAID' || status === 'successful'
          ? 'PAID'
          : status === 'FAILED' || status === 'failed'
            ? 'FAILED'
            : undefined;
      if (outcome === undefined)
        return { ok: false, status: 400, error: 'status: PAID | FAILED (or successful | failed)' };
      const done = complete(orderId, outcome);
      if (done === undefined) return { ok: false, status: 409, error: 'no open order with this order_id' };
      return { ok: true, result: { ...statusData(done.order), redirect_url: done.redirect } };
    },
    reset: () => {
      state.reset();
      payouts.reset();
    },
    onClear: () => {
      gate.releaseAll();
      payouts.releaseAll();
    },
    extraRoutes: payouts.controlRoutes,
  });

  return Object.assign(app, { simulatorState: state });
}

export async function startKwikPaisaSimulator(
  options: KwikPaisaSimulatorOptions & { host?: string; port?: number },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  return listenSimulator(buildKwikPaisaSimulator(options), options.host, options.port);
}
