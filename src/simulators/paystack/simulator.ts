// A local Paystack: the same endpoints, payloads and signatures as the real API
// (shared/provider-wire-formats.md §2), a hosted checkout with Pay and Decline buttons, signed
// webhooks, and the common control API for fault injection under /_sim/ (./README.md and
// ../README.md). Used by the gateway in test mode, by our tests, and alone by merchants.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { randomBytes } from 'node:crypto';
import { createSimulatorGate, sameSecret } from '../shared/api-gate.ts';
import { takeAnswerFaults, withAnswerFaults } from '../shared/answer-faults.ts';
import { registerControlApi } from '../shared/control-api.ts';
import { registerPaystackTransferRoutes } from './transfer-routes.ts';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { listenSimulator } from '../shared/listen.ts';
import { accountResolves, simulatedAccountName } from '../shared/accounts.ts';
import { checkoutCsp, renderCheckout } from './checkout-page.ts';
import {
  createState,
  wireReference,
  type Checkout,
  type SimulatorSettings,
  type SimulatorState,
  type Transaction,
} from './state.ts';
import { createWebhookSender } from './webhook-sender.ts';
import {
  customerFor,
  DUPLICATE_REFERENCE,
  errorEnvelope,
  INVALID_KEY,
  RATE_LIMITED,
  unpaidTransaction,
  verifyData,
} from './wire.ts';

const SIMULATED_PAYSTACK_BANKS: Readonly<
  Record<string, ReadonlyArray<{ code: string; name: string; currency: string }>>
> = {
  nigeria: [
    { code: '044', name: 'Access Bank', currency: 'NGN' },
    { code: '063', name: 'Access Bank (Diamond)', currency: 'NGN' },
    { code: '058', name: 'Guaranty Trust Bank', currency: 'NGN' },
    { code: '057', name: 'Zenith Bank', currency: 'NGN' },
  ],
  ghana: [{ code: '280100', name: 'Access Bank Ghana', currency: 'GHS' }],
  kenya: [{ code: '01', name: 'Kenya Commercial Bank', currency: 'KES' }],
  'south africa': [{ code: '632005', name: 'ABSA Bank Limited', currency: 'ZAR' }],
};

export interface PaystackSimulatorOptions {
  /** The secret key (`sk_test_…`): expected as `Authorization: Bearer …`, and it signs webhooks. */
  readonly secretKey: string;
  readonly webhookUrl?: string;
  readonly publicBaseUrl?: string;
}

export const SIMULATED_CURRENCIES = ['NGN', 'GHS', 'KES', 'ZAR', 'USD'] as const;
const REFERENCE = /^[A-Za-z0-9.=-]{1,100}$/;

export function buildPaystackSimulator(
  options: PaystackSimulatorOptions,
): FastifyInstance & { simulatorState: SimulatorState } {
  const state = createState(options.webhookUrl);
  const sender = createWebhookSender(state, options.secretKey);
  // forceCloseConnections: a `timeout` fault holds sockets open on purpose; closing must not wait.
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true }, forceCloseConnections: true });
  void app.register(formbody);
  // The official SDK writes a JSON body without a Content-Type (§2.8): read any other or missing
  // type as JSON when it parses, else as no body.
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(String(body)));
    } catch {
      done(null, undefined);
    }
  });
  app.addHook('onClose', async () => {
    gate.releaseAll();
    await sender.close();
  });

  // ---- Authentication and API faults, for every API call (the shared gate) -------------------
  const gate = createSimulatorGate({
    faults: state.faults,
    authenticate: (request) =>
      sameSecret(request.headers.authorization ?? '', `Bearer ${options.secretKey}`)
        ? undefined
        : { status: 401, body: INVALID_KEY },
    faultBody: (status) =>
      status === 429 ? RATE_LIMITED : errorEnvelope('An error occurred', { type: 'api_error', code: 'unknown_error' }),
  });
  const apiGate = gate.pass;
  const lost = createLostAnswerFaults(state.faults);

  const publicBase = (request: FastifyRequest) =>
    options.publicBaseUrl ?? `http://${request.headers.host ?? '127.0.0.1'}`;
  // Paystack's documented form for a value it refuses (doc-code-snippets: `invalid_params`, with
  // this nextStep); the messages for amount, reference and callback_url are not published.
  const invalid = (message: string) =>
    errorEnvelope(message, {
      nextStep: "Ensure that the value(s) you're passing are valid.",
      type: 'validation_error',
      code: 'invalid_params',
    });

  /** The transaction a reference stands for: the successful attempt if any, else the latest. */
  const latestFor = (reference: string): Transaction | undefined => {
    const all = state.transactionsFor(reference);
    return all.find((t) => t.status === 'success') ?? all.at(-1);
  };

  app.post('/transaction/initialize', async (request, reply) => {
    const body = (typeof request.body === 'object' && request.body !== null ? request.body : {}) as Record<
      string,
      unknown
    >;
    const given = typeof body.reference === 'string' && body.reference !== '' ? body.reference : undefined;
    if (!(await apiGate(request, reply, given))) return reply;
    if (typeof body.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(body.email)) {
      return reply.code(400).send(
        errorEnvelope('Email Address is required', {
          nextStep: 'Provide all required params ',
          type: 'validation_error',
          code: 'missing_params',
        }),
      );
    }
    // Integer minor units; a form-encoded request sends it as a digit string.
    const amount =
      typeof body.amount === 'number'
        ? body.amount
        : typeof body.amount === 'string' && /^\d{1,15}$/.test(body.amount)
          ? Number(body.amount)
          : NaN;
    if (!Number.isSafeInteger(amount) || amount <= 0) return reply.code(400).send(invalid('Invalid Amount Sent'));
    const currency = body.currency ?? 'NGN';
    // The docs' own sample of this refusal is the bare envelope (no type, no code).
    if (typeof currency !== 'string' || !state.settings.currencies.includes(currency))
      return reply.code(400).send(errorEnvelope('Currency not supported by merchant'));
    if (given !== undefined && !REFERENCE.test(given))
      return reply
        .code(400)
        .send(invalid('Invalid transaction reference: only -, ., = and alphanumeric characters are allowed'));
    if (
      body.callback_url !== undefined &&
      (typeof body.callback_url !== 'string' || !/^https?:\/\/[^\s]+$/.test(body.callback_url))
    )
      return reply.code(400).send(invalid('Invalid callback_url'));
    const reference = given ?? randomBytes(5).toString('hex');
    if (state.checkoutsByRef.has(reference)) return reply.code(400).send(DUPLICATE_REFERENCE);
    // metadata may be an object or (from form-encoded clients) a JSON string.
    let metadata: unknown = body.metadata ?? null;
    if (typeof metadata === 'string') {
      try {
        metadata = JSON.parse(metadata);
      } catch {
        // kept as the string it is
      }
    }
    const checkout: Checkout = {
      accessCode: state.newAccessCode(),
      reference,
      amount,
      currency,
      email: body.email,
      callbackUrl: typeof body.callback_url === 'string' ? body.callback_url : undefined,
      metadata,
      transactionId: state.nextTransactionId++,
      status: 'open',
      declinedAttempts: 0,
      createdAt: new Date().toISOString(),
    };
    state.checkouts.set(checkout.accessCode, checkout);
    state.checkoutsByRef.set(reference, checkout);
    // lost_answer_*: the transaction is initialized and the answer never arrives (../README.md).
    const lostAnswer = lost.takeLostAnswer(reference);
    if (lostAnswer !== undefined)
      return lost.loseAnswer(
        lostAnswer,
        request,
        reply,
        errorEnvelope('An error occurred', { type: 'api_error', code: 'unknown_error' }),
      );
    return {
      status: true,
      message: 'Authorization URL created',
      data: {
        authorization_url: `${publicBase(request)}/checkout/${checkout.accessCode}`,
        access_code: checkout.accessCode,
        reference,
      },
    };
  });

  app.get<{ Params: { reference: string } }>('/transaction/verify/:reference', async (request, reply) => {
    const reference = request.params.reference;
    if (!(await apiGate(request, reply, reference))) return reply;
    const tx = latestFor(reference);
    if (tx === undefined) {
      const checkout = state.checkoutsByRef.get(reference);
      // Initialized but not paid: Paystack knows the transaction and calls it abandoned.
      if (checkout !== undefined && state.settings.unpaidVerify === 'abandoned')
        return { status: true, message: 'Verification successful', data: verifyData(unpaidTransaction(checkout)) };
      return reply
        .code(state.settings.notFoundHttpStatus)
        .send(
          errorEnvelope('Transaction reference not found', { type: 'validation_error', code: 'transaction_not_found' }),
        );
    }
    const faults = takeAnswerFaults(state.faults, reference, { amountMinor: tx.amount, currency: tx.currency });
    const data = verifyData(tx, {
      amountMinor: faults.amountMinor,
      currency: faults.currency,
      feeBearer: state.settings.feeBearer,
    });
    return { status: true, message: 'Verification successful', data: withAnswerFaults(data, faults) };
  });

  // ---- Hosted checkout -------------------------------------------------------------------------
  // ---- Banks and account resolution (§2.6) -------------------------------------------------------
  app.get<{ Querystring: Record<string, string | undefined> }>('/bank', async (request, reply) => {
    if (!(await apiGate(request, reply, undefined))) return reply;
    const banks = SIMULATED_PAYSTACK_BANKS[(request.query.country ?? 'nigeria').toLowerCase()];
    if (banks === undefined)
      return reply
        .code(400)
        .send(errorEnvelope('Invalid country', { type: 'validation_error', code: 'invalid_params' }));
    // One page is enough for the simulator; `meta.next` null says there is no other.
    return {
      status: true,
      message: 'Banks retrieved',
      data: banks.map((b, i) => ({
        name: b.name,
        slug: b.name.toLowerCase().replaceAll(' ', '-'),
        code: b.code,
        longcode: '',
        gateway: null,
        pay_with_bank: false,
        active: true,
        is_deleted: false,
        country: request.query.country ?? 'nigeria',
        currency: b.currency,
        type: 'nuban',
        id: 100 + i,
      })),
      meta: { next: null, previous: null, perPage: 100 },
    };
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/bank/resolve', async (request, reply) => {
    if (!(await apiGate(request, reply, undefined))) return reply;
    const accountNumber = request.query.account_number ?? '';
    const bankCode = request.query.bank_code ?? '';
    const known = Object.values(SIMULATED_PAYSTACK_BANKS).some((banks) => banks.some((b) => b.code === bankCode));
    if (!/^\d{6,15}$/.test(accountNumber) || !known || !accountResolves(accountNumber)) {
      return reply.code(422).send(
        errorEnvelope('Could not resolve account name. Check parameters or try again.', {
          type: 'validation_error',
          code: 'invalid_bank_details',
        }),
      );
    }
    return {
      status: true,
      message: 'Account number resolved',
      data: { account_number: accountNumber, account_name: simulatedAccountName(accountNumber), bank_id: 9 },
    };
  });

  app.get<{ Params: { accessCode: string } }>('/checkout/:accessCode', async (request, reply) => {
    const checkout = state.checkouts.get(request.params.accessCode);
    if (checkout === undefined) return reply.code(404).type('text/plain').send('No such checkout');
    return reply
      .header('content-security-policy', checkoutCsp(checkout.callbackUrl))
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(renderCheckout(checkout));
  });

  function complete(
    reference: string,
    outcome: 'success' | 'failed',
  ): { transaction: Transaction; redirect: string | undefined } | undefined {
    const checkout = state.checkoutsByRef.get(reference);
    if (checkout === undefined || checkout.status !== 'open') return undefined;
    // One transaction per reference: a decline marks it failed and leaves the checkout open; a
    // later success on the same checkout is the same transaction, now successful.
    if (outcome === 'success') checkout.status = 'paid';
    else checkout.declinedAttempts += 1;
    const makeTx = (id: number, status: 'success' | 'failed'): Transaction => {
      const now = new Date().toISOString();
      const tx: Transaction = {
        id,
        reference,
        amount: checkout.amount,
        currency: checkout.currency,
        status,
        gateway_response: status === 'success' ? 'Successful' : 'Declined',
        paid_at: status === 'success' ? now : null,
        created_at: checkout.createdAt,
        customer: customerFor(checkout),
        metadata: checkout.metadata,
      };
      state.transactions.set(id, tx);
      return tx;
    };
    const outOfOrder = outcome === 'success' ? state.faults.take(['out_of_order'], reference) : undefined;
    // out_of_order: an earlier failed attempt whose (stale) webhook arrives after the success.
    const earlierFailure = outOfOrder === undefined ? undefined : makeTx(state.nextTransactionId++, 'failed');
    const transaction = makeTx(checkout.transactionId, outcome);
    // Paystack sends nothing for a declined card: only a success has a webhook.
    if (outcome === 'success' && state.faults.take(['no_webhook'], reference) === undefined) {
      const duplicate = state.faults.take(['duplicate_webhook'], reference);
      const badSignature = state.faults.take(['bad_signature'], reference) !== undefined;
      const sequence = earlierFailure === undefined ? [transaction] : [transaction, earlierFailure];
      setImmediate(
        () =>
          void sender.sendSequence(sequence, {
            badSignature,
            copies: duplicate === undefined ? 1 : (duplicate.value ?? 5),
          }),
      );
    }
    let redirect: string | undefined;
    // After a decline the customer stays on the checkout to try again.
    if (checkout.callbackUrl !== undefined && outcome === 'success') {
      const url = new URL(checkout.callbackUrl);
      url.searchParams.set('trxref', reference);
      url.searchParams.set('reference', reference);
      redirect = url.toString();
    }
    return { transaction, redirect };
  }

  for (const [action, outcome] of [
    ['pay', 'success'],
    ['decline', 'failed'],
  ] as const) {
    app.post<{ Params: { accessCode: string } }>(`/checkout/:accessCode/${action}`, async (request, reply) => {
      const checkout = state.checkouts.get(request.params.accessCode);
      if (checkout === undefined) return reply.code(404).type('text/plain').send('No such checkout');
      const done = complete(checkout.reference, outcome);
      if (done === undefined)
        return reply.code(409).type('text/plain').send(`This checkout is already ${checkout.status}.`);
      if (done.redirect !== undefined) return reply.redirect(done.redirect, 302);
      if (outcome === 'failed')
        return reply
          .header('content-security-policy', checkoutCsp(checkout.callbackUrl))
          .header('cache-control', 'no-store')
          .type('text/html; charset=utf-8')
          .send(renderCheckout(checkout));
      // No callback_url (Paystack would use the dashboard's): say so on a page of our own.
      return reply
        .header('content-security-policy', checkoutCsp(undefined))
        .type('text/plain')
        .send(
          outcome === 'success'
            ? 'Payment successful. You may close this window.'
            : 'Payment declined. You may close this window.',
        );
    });
  }

  const transfers = registerPaystackTransferRoutes(app, { state, gate, secretKey: options.secretKey });

  // ---- Control API -----------------------------------------------------------------------------
  /** A scope in Paywarden's form (pay_…) finds its Paystack reference (pay-…). */
  const referenceFor = (scope: string) => (state.checkoutsByRef.has(scope) ? scope : wireReference(scope));

  registerControlApi(app, {
    faults: state.faults,
    scopeFields: ['reference', 'tx_ref'],
    webhooks: () => state.webhooks,
    transactions: () => [...state.transactions.values()].map((tx) => verifyData(tx)),
    checkouts: () => [...state.checkouts.values()].map((c) => ({ reference: c.reference })),
    configure(body) {
      if (body.notFoundHttpStatus !== undefined && ![400, 404].includes(body.notFoundHttpStatus as number))
        return { ok: false, error: 'notFoundHttpStatus: 400 | 404' };
      if (body.unpaidVerify !== undefined && !['abandoned', 'not_found'].includes(String(body.unpaidVerify)))
        return { ok: false, error: 'unpaidVerify: abandoned | not_found' };
      if (body.webhookUrl !== undefined && typeof body.webhookUrl !== 'string')
        return { ok: false, error: 'webhookUrl: a URL' };
      if (body.feeBearer !== undefined && !['merchant', 'customer'].includes(String(body.feeBearer)))
        return { ok: false, error: 'feeBearer: merchant | customer' };
      if (
        body.currencies !== undefined &&
        !(
          Array.isArray(body.currencies) &&
          body.currencies.every((c) => (SIMULATED_CURRENCIES as readonly unknown[]).includes(c))
        )
      )
        return { ok: false, error: `currencies: a list of ${SIMULATED_CURRENCIES.join(', ')}` };
      const known: Array<keyof SimulatorSettings> = [
        'webhookUrl',
        'notFoundHttpStatus',
        'unpaidVerify',
        'feeBearer',
        'currencies',
      ];
      Object.assign(
        state.settings,
        Object.fromEntries(Object.entries(body).filter(([k]) => (known as string[]).includes(k))),
      );
      return { ok: true, settings: state.settings };
    },
    resend(id) {
      const tx = /^\d+$/.test(id) ? state.transactions.get(Number(id)) : undefined;
      if (tx === undefined) return { ok: false, status: 404, error: 'no such transaction' };
      return { ok: true, entry: sender.send(tx, { badSignature: false }) ?? { error: 'no webhookUrl configured' } };
    },
    complete(scope, status = 'success') {
      // `successful` is the word the other simulators use; accepted so shared tests drive all alike.
      const outcome =
        status === 'success' || status === 'successful' ? 'success' : status === 'failed' ? 'failed' : undefined;
      if (outcome === undefined) return { ok: false, status: 400, error: 'status: success | failed' };
      const done = complete(referenceFor(scope), outcome);
      if (done === undefined) return { ok: false, status: 409, error: 'no open checkout with this reference' };
      return { ok: true, result: { ...verifyData(done.transaction), redirect_url: done.redirect ?? null } };
    },
    reset: () => {
      state.reset();
      transfers.reset();
    },
    onClear: () => gate.releaseAll(),
    extraRoutes: transfers.control,
  });

  return Object.assign(app, { simulatorState: state });
}

export async function startPaystackSimulator(
  options: PaystackSimulatorOptions & { host?: string; port?: number },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  return listenSimulator(buildPaystackSimulator(options), options.host, options.port);
}
