// A local Flutterwave v3: the same endpoints, payloads and signatures as the real API
// (shared/provider-wire-formats.md §1), a hosted checkout with Pay and Decline buttons, signed
// webhooks, and a control API for fault injection under /_sim/ (documented in ../README.md).
// Used by the gateway in test mode, by our tests, and alone by merchants (`paywarden simulate`).
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { createHash, timingSafeEqual } from 'node:crypto';
import { checkoutCsp, renderCheckout } from './checkout-page.ts';
import { createState, type SimulatorState, type Transaction } from './state.ts';
import { createApiFaultGate } from '../shared/api-gate.ts';
import { registerControlApi } from '../shared/control-api.ts';
import { listenSimulator } from '../shared/listen.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { errorEnvelope, verifyData } from './wire.ts';
import { resolveAccount, SIMULATED_BANKS } from './banks.ts';

export interface FlutterwaveSimulatorOptions {
  readonly secretKey: string;
  readonly secretHash: string;
  readonly webhookUrl?: string;
  readonly publicBaseUrl?: string;
}

const sha = (value: string) => createHash('sha256').update(value).digest();

export function buildFlutterwaveSimulator(options: FlutterwaveSimulatorOptions): FastifyInstance & { simulatorState: SimulatorState } {
  const state = createState(options.webhookUrl);
  const sender = createWebhookSender(state, options.secretHash);
  const publicBaseUrl = options.publicBaseUrl;
  // forceCloseConnections: a `timeout` fault holds sockets open on purpose; closing must not wait.
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true }, forceCloseConnections: true });
  void app.register(formbody);
  app.addHook('onClose', async () => {
    gate.releaseAll();
    await sender.close();
  });

  // ---- Authentication and API faults, for every /v3 call -------------------------------------
  const gate = createApiFaultGate(state.faults, (status) => errorEnvelope(status === 429 ? 'Too many requests' : 'An error occurred. Please contact support'));
  async function apiGate(request: FastifyRequest, reply: FastifyReply, txRef: string | undefined): Promise<boolean> {
    const auth = request.headers.authorization ?? '';
    if (!timingSafeEqual(sha(auth), sha(`Bearer ${options.secretKey}`))) {
      await reply.code(401).send(errorEnvelope('Invalid authorization key'));
      return false;
    }
    return gate.apply(request, reply, txRef);
  }

  const sendVerify = (reply: FastifyReply, tx: Transaction | undefined) => {
    if (tx === undefined) return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope('No transaction was found for this id'));
    const wrongAmount = state.faults.take(['wrong_amount'], tx.tx_ref);
    const wrongCurrency = state.faults.take(['wrong_currency'], tx.tx_ref);
    return reply.send({
      status: 'success',
      message: 'Transaction fetched successfully',
      data: verifyData(tx, {
        ...(wrongAmount === undefined ? {} : { amount: Math.round((tx.amount - (wrongAmount.value ?? 1)) * 100) / 100 }),
        ...(wrongCurrency === undefined ? {} : { currency: tx.currency === 'USD' ? 'NGN' : 'USD' }),
      }),
    });
  };

  /** The transaction a reference stands for: the successful attempt if any, else the latest. */
  const latestFor = (txRef: string): Transaction | undefined => {
    const all = state.transactionsFor(txRef);
    return all.find((t) => t.status === 'successful') ?? all.at(-1);
  };

  app.post('/v3/payments', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, any>;
    if (!(await apiGate(request, reply, typeof body.tx_ref === 'string' ? body.tx_ref : undefined))) return reply;
    const amount = typeof body.amount === 'number' ? String(body.amount) : body.amount;
    if (typeof body.tx_ref !== 'string' || body.tx_ref === '') return reply.code(400).send(errorEnvelope('tx_ref is required'));
    if (typeof amount !== 'string' || !/^\d+(\.\d+)?$/.test(amount) || Number(amount) <= 0) return reply.code(400).send(errorEnvelope('amount must be a positive number'));
    const currency = body.currency ?? 'NGN';
    if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) return reply.code(400).send(errorEnvelope('Invalid currency'));
    if (typeof body.redirect_url !== 'string' || !/^https?:\/\//.test(body.redirect_url)) return reply.code(400).send(errorEnvelope('redirect_url is required'));
    if (typeof body.customer?.email !== 'string') return reply.code(400).send(errorEnvelope('customer.email is required'));
    // The docs say tx_ref must be unique; the exact error text is not documented (§8), this is ours.
    if (state.checkoutsByRef.has(body.tx_ref)) return reply.code(400).send(errorEnvelope('Duplicate transaction reference'));
    const checkout = { token: state.newToken(), txRef: body.tx_ref, amount, currency, redirectUrl: body.redirect_url, customer: body.customer, meta: body.meta ?? null, title: typeof body.customizations?.title === 'string' ? body.customizations.title : 'Payment', status: 'open' as const, createdAt: new Date().toISOString() };
    state.checkouts.set(checkout.token, checkout);
    state.checkoutsByRef.set(checkout.txRef, checkout);
    return { status: 'success', message: 'Hosted Link', data: { link: `${publicBaseUrl ?? `http://${request.headers.host ?? '127.0.0.1'}`}/checkout/${checkout.token}` } };
  });

  app.get<{ Params: { id: string } }>('/v3/transactions/:id/verify', async (request, reply) => {
    const tx = /^\d+$/.test(request.params.id) ? state.transactions.get(Number(request.params.id)) : undefined;
    if (!(await apiGate(request, reply, tx?.tx_ref))) return reply;
    return sendVerify(reply, tx);
  });

  app.get<{ Querystring: { tx_ref?: string } }>('/v3/transactions/verify_by_reference', async (request, reply) => {
    const txRef = request.query.tx_ref ?? '';
    if (!(await apiGate(request, reply, txRef))) return reply;
    const tx = latestFor(txRef);
    if (tx === undefined && state.checkoutsByRef.has(txRef)) {
      // Created but not paid yet: Flutterwave has no transaction for it.
      return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope('No transaction was found for this id'));
    }
    return sendVerify(reply, tx);
  });

  app.get<{ Params: { country: string } }>('/v3/banks/:country', async (request, reply) => {
    if (!(await apiGate(request, reply, undefined))) return reply;
    const banks = SIMULATED_BANKS[request.params.country.toUpperCase()];
    if (banks === undefined) return reply.code(400).send(errorEnvelope('Country not supported'));
    return { status: 'success', message: 'Banks fetched successfully', data: banks };
  });

  app.post('/v3/accounts/resolve', async (request, reply) => {
    if (!(await apiGate(request, reply, undefined))) return reply;
    const answer = resolveAccount((request.body ?? {}) as Record<string, unknown>);
    if (!answer.ok) return reply.code(400).send(errorEnvelope(answer.message));
    return { status: 'success', message: 'Account details fetched', data: { account_number: answer.accountNumber, account_name: answer.accountName } };
  });

  // ---- Hosted checkout -------------------------------------------------------------------------
  app.get<{ Params: { token: string } }>('/checkout/:token', async (request, reply) => {
    const checkout = state.checkouts.get(request.params.token);
    if (checkout === undefined) return reply.code(404).type('text/plain').send('No such checkout');
    return reply.header('content-security-policy', checkoutCsp(checkout.redirectUrl)).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderCheckout(checkout));
  });

  function complete(txRef: string, outcome: 'successful' | 'failed'): { transaction: Transaction; redirect: string } | undefined {
    const checkout = state.checkoutsByRef.get(txRef);
    if (checkout === undefined || checkout.status !== 'open') return undefined;
    checkout.status = outcome === 'successful' ? 'paid' : 'declined';
    const makeTx = (status: Transaction['status']): Transaction => {
      const id = state.nextTransactionId++;
      const now = new Date().toISOString();
      const tx: Transaction = {
        id,
        tx_ref: txRef,
        flw_ref: `FLW-SIM-${id}`,
        amount: Number(checkout.amount),
        currency: checkout.currency,
        status,
        created_at: now,
        customer: { id: 200_000 + id % 100_000, name: checkout.customer.name ?? 'Anonymous customer', phone_number: checkout.customer.phonenumber ?? 'N/A', email: checkout.customer.email, created_at: now },
        meta: checkout.meta,
      };
      state.transactions.set(id, tx);
      return tx;
    };
    const outOfOrder = outcome === 'successful' ? state.faults.take(['out_of_order'], txRef) : undefined;
    // out_of_order: an earlier failed attempt whose webhook arrives after the success.
    const earlierFailure = outOfOrder === undefined ? undefined : makeTx('failed');
    const transaction = makeTx(outcome);
    if (state.faults.take(['no_webhook'], txRef) === undefined) {
      const duplicate = state.faults.take(['duplicate_webhook'], txRef);
      const badSignature = state.faults.take(['bad_signature'], txRef) !== undefined;
      const sequence = earlierFailure === undefined ? [transaction] : [transaction, earlierFailure];
      setImmediate(() => void sender.sendSequence(sequence, { badSignature, copies: duplicate === undefined ? 1 : (duplicate.value ?? 5) }));
    }
    const redirect = new URL(checkout.redirectUrl);
    redirect.searchParams.set('status', outcome === 'successful' ? 'successful' : 'failed');
    redirect.searchParams.set('tx_ref', txRef);
    redirect.searchParams.set('transaction_id', String(transaction.id));
    return { transaction, redirect: redirect.toString() };
  }

  for (const [action, outcome] of [['pay', 'successful'], ['decline', 'failed']] as const) {
    app.post<{ Params: { token: string } }>(`/checkout/:token/${action}`, async (request, reply) => {
      const checkout = state.checkouts.get(request.params.token);
      if (checkout === undefined) return reply.code(404).type('text/plain').send('No such checkout');
      const done = complete(checkout.txRef, outcome);
      if (done === undefined) return reply.code(409).type('text/plain').send(`This checkout is already ${checkout.status}.`);
      return reply.redirect(done.redirect, 302);
    });
  }

  // ---- Control API -----------------------------------------------------------------------------
  registerControlApi(app, {
    faults: state.faults,
    scopeFields: ['tx_ref'],
    webhooks: () => state.webhooks,
    transactions: () => [...state.transactions.values()],
    configure(body) {
      if (body.signatureHeaders !== undefined && !['both', 'verif-hash', 'flutterwave-signature'].includes(String(body.signatureHeaders))) return { ok: false, error: 'signatureHeaders: both | verif-hash | flutterwave-signature' };
      if (body.payloadShape !== undefined && !['v3', 'flat'].includes(String(body.payloadShape))) return { ok: false, error: 'payloadShape: v3 | flat' };
      if (body.notFoundHttpStatus !== undefined && ![200, 400].includes(body.notFoundHttpStatus as number)) return { ok: false, error: 'notFoundHttpStatus: 200 | 400' };
      if (body.webhookUrl !== undefined && typeof body.webhookUrl !== 'string') return { ok: false, error: 'webhookUrl: a URL' };
      Object.assign(state.settings, Object.fromEntries(Object.entries(body).filter(([k]) => k in state.settings)));
      return { ok: true, settings: state.settings };
    },
    resend(id) {
      const tx = state.transactions.get(Number(id));
      if (tx === undefined) return { ok: false, status: 404, error: 'no such transaction' };
      return { ok: true, entry: sender.send(tx, { badSignature: false }) ?? { error: 'no webhookUrl configured' } };
    },
    complete(txRef, status = 'successful') {
      if (status !== 'successful' && status !== 'failed') return { ok: false, status: 400, error: 'status: successful | failed' };
      const done = complete(txRef, status);
      if (done === undefined) return { ok: false, status: 409, error: 'no open checkout with this tx_ref' };
      return { ok: true, result: { ...done.transaction, redirect_url: done.redirect } };
    },
    reset: () => state.reset(),
    onClear: () => gate.releaseAll(),
  });

  return Object.assign(app, { simulatorState: state });
}

export async function startFlutterwaveSimulator(options: FlutterwaveSimulatorOptions & { host?: string; port?: number }): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  return listenSimulator(buildFlutterwaveSimulator(options), options.host, options.port);
}
