// Paystack transfers (payouts research §1.3): transfer recipients (POST /transferrecipient, RCP_
// codes), POST /transfer from the balance in kobo under the merchant's unique reference, the OTP
// step (`otp`, POST /transfer/finalize_transfer, abandoned after 30 minutes), GET
// /transfer/verify/:reference (404 "Transfer not found"), GET /transfer (the list: the ledger in
// Paystack's own words), GET /balance, and transfer.success|failed|reversed webhooks signed like
// every Paystack webhook. The payout faults of issue 9 §3 (../README.md) apply, scoped by reference.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { accountResolves, simulatedAccountName } from '../shared/accounts.ts';
import type { SimulatorGate } from '../shared/api-gate.ts';
import { createLostAnswerFaults, hiddenLookupsFor, visible } from '../shared/payout-faults.ts';
import { createWebhookPoster } from '../shared/webhook-poster.ts';
import type { SimulatorState } from './state.ts';
import { errorEnvelope, paystackSignature } from './wire.ts';

/** The OTP the simulator accepts (its "phone" receives this one). */
export const SIMULATED_OTP = '123456';
export const OTP_WINDOW_MS = 30 * 60_000;
const DEFAULT_BALANCE_KOBO = 1_000_000_000_000;
const REFERENCE = /^[a-z0-9_-]{16,50}$/;
export const DUPLICATE_TRANSFER_MESSAGE = 'Transfer reference has already been used';
export const INSUFFICIENT_MESSAGE = 'Your balance is not enough to fulfill this request';

export type PaystackTransferStatus = 'pending' | 'otp' | 'success' | 'failed' | 'reversed' | 'abandoned';

export interface Recipient {
  readonly id: number;
  readonly code: string;
  readonly type: string;
  readonly name: string;
  readonly accountNumber: string;
  readonly bankCode: string;
  readonly currency: string;
}

export interface PaystackTransfer {
  readonly id: number;
  readonly code: string;
  readonly reference: string;
  readonly amount: number;
  readonly currency: string;
  readonly reason: string;
  readonly recipient: Recipient;
  readonly createdAtMs: number;
  status: PaystackTransferStatus;
  hiddenLookups: number;
  stuck: boolean;
  reverseAfterSuccess: boolean;
  transferredAt: string | null;
}

export function createTransferBook() {
  return {
    recipients: new Map<string, Recipient>(),
    transfers: new Map<string, PaystackTransfer>(),
    balances: new Map<string, number>(),
    nextId: 71_000_001,
    clear() {
      this.recipients.clear();
      this.transfers.clear();
      this.balances.clear();
    },
  };
}
export type TransferBook = ReturnType<typeof createTransferBook>;

function transferData(t: PaystackTransfer): Record<string, unknown> {
  return {
    id: t.id,
    transfer_code: t.code,
    reference: t.reference,
    amount: t.amount,
    currency: t.currency,
    source: 'balance',
    reason: t.reason,
    status: t.status,
    fee_charged: t.amount <= 500_000 ? 1_000 : 2_500,
    integration: 463_433,
    recipient: {
      recipient_code: t.recipient.code,
      type: t.recipient.type,
      name: t.recipient.name,
      details: { account_number: t.recipient.accountNumber, bank_code: t.recipient.bankCode },
    },
    transferred_at: t.transferredAt,
    createdAt: new Date(t.createdAtMs).toISOString(),
  };
}

export function registerPaystackTransferRoutes(
  app: FastifyInstance,
  deps: { state: SimulatorState; gate: SimulatorGate; secretKey: string; nowMs?: () => number },
): { control: (control: FastifyInstance) => void; reset: () => void } {
  const { state, gate } = deps;
  const book = createTransferBook();
  const nowMs = deps.nowMs ?? Date.now;
  const lost = createLostAnswerFaults(state.faults);
  const poster = createWebhookPoster(state.webhooks);
  app.addHook('onClose', async () => {
    lost.releaseAll();
    await poster.close();
  });

  const signed = (t: PaystackTransfer) => {
    const body = JSON.stringify({ event: `transfer.${t.status}`, data: transferData(t) });
    return {
      body,
      headers: { 'content-type': 'application/json', 'x-paystack-signature': paystackSignature(body, deps.secretKey) },
    };
  };

  /** The transfer's webhook with its faults; then `stale` (an earlier state's webhook), if any. */
  async function sendWebhook(t: PaystackTransfer, stale?: PaystackTransfer): Promise<void> {
    const url = state.settings.webhookUrl;
    if (url === undefined || state.faults.take(['no_webhook'], t.reference) !== undefined) return;
    const duplicate = state.faults.take(['duplicate_webhook'], t.reference);
    const { body, headers } = signed(t);
    const first = poster.deliver(url, body, headers);
    const copies = [
      first,
      ...Array.from({ length: Math.max(0, (duplicate?.value ?? 1) - 1) }, () => poster.repeat(first)),
    ];
    await Promise.all(copies.map((entry) => poster.waitFor(entry)));
    if (stale === undefined) return;
    const late = signed(stale);
    await poster.waitFor(poster.deliver(url, late.body, late.headers));
  }

  /** The bank's answer: success unless the account does not resolve; then a reversal if asked. */
  async function settle(t: PaystackTransfer, to?: PaystackTransferStatus): Promise<boolean> {
    if (t.status !== 'pending' && t.status !== 'otp' && !(t.status === 'success' && to === 'reversed')) return false;
    const status = to ?? (accountResolves(t.recipient.accountNumber) ? 'success' : 'failed');
    // out_of_order: the earlier state's webhook arrives after the final one. Paystack sends none
    // for pending or otp, so the only earlier webhook there is: transfer.success after the reversal.
    const stale =
      status === 'reversed' && state.faults.take(['out_of_order'], t.reference) !== undefined ? { ...t } : undefined;
    t.status = status;
    if (status === 'success') t.transferredAt = new Date(nowMs()).toISOString();
    if (status === 'failed' || status === 'abandoned' || status === 'reversed')
      book.balances.set(t.currency, balanceOf(t.currency) + t.amount);
    await sendWebhook(t, stale);
    if (status === 'success' && t.reverseAfterSuccess) {
      t.reverseAfterSuccess = false;
      await settle(t, 'reversed');
    }
    return true;
  }

  const balanceOf = (currency: string) => book.balances.get(currency) ?? DEFAULT_BALANCE_KOBO;

  /** OTP not given within 30 minutes: Paystack abandons the transfer. */
  function expire(t: PaystackTransfer): void {
    if (t.status === 'otp' && nowMs() - t.createdAtMs > OTP_WINDOW_MS) void settle(t, 'abandoned');
  }

  app.post('/transferrecipient', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const { type, name, account_number: accountNumber, bank_code: bankCode } = body;
    const currency = typeof body.currency === 'string' ? body.currency : 'NGN';
    if (typeof type !== 'string' || !['nuban', 'ghipss', 'mobile_money', 'basa', 'kepss'].includes(type))
      return reply.code(400).send(errorEnvelope('Invalid recipient type', { type: 'validation_error' }));
    if (typeof name !== 'string' || name.length === 0 || name.length > 100)
      return reply.code(400).send(errorEnvelope('Name is required', { type: 'validation_error' }));
    if (typeof accountNumber !== 'string' || !/^\d{6,15}$/.test(accountNumber) || typeof bankCode !== 'string')
      return reply
        .code(400)
        .send(errorEnvelope('Account number and bank code are required', { type: 'validation_error' }));
    if (!accountResolves(accountNumber))
      return reply
        .code(422)
        .send(errorEnvelope('Cannot resolve account', { type: 'validation_error', code: 'invalid_bank_details' }));
    const recipient: Recipient = {
      id: book.nextId++,
      code: `RCP_${randomBytes(8).toString('hex')}`,
      type,
      name,
      accountNumber,
      bankCode,
      currency,
    };
    book.recipients.set(recipient.code, recipient);
    return reply.code(201).send({
      status: true,
      message: 'Transfer recipient created successfully',
      data: {
        id: recipient.id,
        recipient_code: recipient.code,
        type,
        name,
        currency,
        active: true,
        details: {
          account_number: accountNumber,
          account_name: simulatedAccountName(accountNumber),
          bank_code: bankCode,
        },
      },
    });
  });

  app.post('/transfer', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const reference = typeof body.reference === 'string' ? body.reference : undefined;
    if (!(await gate.pass(request, reply, reference))) return reply;
    if (!lost.beforeProcessing(request, reply, reference)) return reply;
    const validation = (message: string) => reply.code(400).send(errorEnvelope(message, { type: 'validation_error' }));
    if (body.source !== 'balance') return validation('Invalid transfer source');
    if (typeof body.amount !== 'number' || !Number.isSafeInteger(body.amount) || body.amount < 100)
      return validation('Amount must be a whole number of kobo, at least 100');
    if (reference === undefined || !REFERENCE.test(reference))
      return validation('Reference must be 16 to 50 lowercase letters, digits, - or _');
    const recipient = typeof body.recipient === 'string' ? book.recipients.get(body.recipient) : undefined;
    if (recipient === undefined)
      return reply.code(400).send(errorEnvelope('Invalid transfer recipient', { code: 'invalid_transfer_recipient' }));
    const currency = typeof body.currency === 'string' ? body.currency : recipient.currency;
    if (book.transfers.has(reference))
      return reply
        .code(400)
        .send(errorEnvelope(DUPLICATE_TRANSFER_MESSAGE, { type: 'validation_error', code: 'duplicate_reference' }));
    // Paystack checks the balance at creation: a refusal, nothing queued (§1.3).
    if (state.faults.take(['insufficient_balance'], reference) !== undefined || balanceOf(currency) < body.amount)
      return reply
        .code(400)
        .send(errorEnvelope(INSUFFICIENT_MESSAGE, { type: 'api_error', code: 'insufficient_balance' }));
    book.balances.set(currency, balanceOf(currency) - body.amount);
    const otp = state.faults.take(['otp_required'], reference) !== undefined;
    const t: PaystackTransfer = {
      id: book.nextId++,
      code: `TRF_${randomBytes(8).toString('hex')}`,
      reference,
      amount: body.amount,
      currency,
      reason: typeof body.reason === 'string' ? body.reason.slice(0, 100) : '',
      recipient,
      createdAtMs: nowMs(),
      status: otp ? 'otp' : 'pending',
      hiddenLookups: hiddenLookupsFor(state.faults, reference),
      stuck: state.faults.take(['stuck_pending'], reference) !== undefined,
      reverseAfterSuccess: state.faults.take(['reversal_after_success'], reference) !== undefined,
      transferredAt: null,
    };
    book.transfers.set(reference, t);
    const answer = {
      status: true,
      message: otp ? 'Transfer requires OTP to continue' : 'Transfer has been queued',
      data: transferData(t),
    };
    if (!otp && !t.stuck) {
      if (state.faults.take(['webhook_before_answer'], reference) !== undefined) await settle(t);
      else setImmediate(() => void settle(t));
    }
    if (state.faults.take(['duplicate_reference'], reference) !== undefined)
      return reply
        .code(400)
        .send(errorEnvelope(DUPLICATE_TRANSFER_MESSAGE, { type: 'validation_error', code: 'duplicate_reference' }));
    const lostAnswer = lost.takeLostAnswer(reference);
    if (lostAnswer !== undefined) {
      await lost.loseAnswer(lostAnswer, request, reply, errorEnvelope('An error occurred', { type: 'api_error' }));
      return reply;
    }
    return answer;
  });

  app.post('/transfer/finalize_transfer', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const t = [...book.transfers.values()].find((x) => x.code === body.transfer_code);
    if (!(await gate.pass(request, reply, t?.reference))) return reply;
    if (t === undefined) return reply.code(404).send(errorEnvelope('Transfer not found'));
    expire(t);
    if (t.status !== 'otp')
      return reply
        .code(400)
        .send(errorEnvelope('Transfer is not currently awaiting OTP', { type: 'validation_error' }));
    if (body.otp !== SIMULATED_OTP)
      return reply.code(400).send(errorEnvelope('Invalid OTP', { type: 'validation_error' }));
    t.status = 'pending';
    if (!t.stuck) setImmediate(() => void settle(t));
    return { status: true, message: 'Transfer has been queued', data: transferData(t) };
  });

  app.get<{ Params: { reference: string } }>('/transfer/verify/:reference', async (request, reply) => {
    const found = book.transfers.get(request.params.reference);
    if (!(await gate.pass(request, reply, request.params.reference))) return reply;
    if (found === undefined || !visible(found))
      return reply.code(404).send(errorEnvelope('Transfer not found', { type: 'api_error', code: 'not_found' }));
    expire(found);
    return { status: true, message: 'Transfer retrieved', data: transferData(found) };
  });

  app.get('/transfer', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const all = [...book.transfers.values()].reverse();
    for (const t of all) expire(t);
    return { status: true, message: 'Transfers retrieved', data: all.map(transferData), meta: { total: all.length } };
  });

  app.get('/balance', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const currencies = new Set(['NGN', 'GHS', ...book.balances.keys()]);
    return {
      status: true,
      message: 'Balances retrieved',
      data: [...currencies].map((currency) => ({ currency, balance: balanceOf(currency) })),
    };
  });

  /** The control side (loopback only, mounted under /_sim by the shared control API). */
  const control = (control: FastifyInstance) => {
    control.get<{ Querystring: { reference?: string } }>('/ledger', async (request) =>
      [...book.transfers.values()]
        .filter((t) => request.query.reference === undefined || t.reference === request.query.reference)
        .map((t) => ({
          reference: t.reference,
          id: t.code,
          kind: 'transfer',
          amountMinor: t.amount,
          currency: t.currency,
          status: t.status,
        })),
    );
    control.post<{ Params: { reference: string }; Body: { status?: unknown } | undefined }>(
      '/transfers/:reference/complete',
      async (request, reply) => {
        const t = book.transfers.get(request.params.reference);
        if (t === undefined) return reply.code(404).send({ error: 'no transfer with this reference' });
        const to = request.body?.status ?? 'success';
        if (to !== 'success' && to !== 'failed' && to !== 'reversed' && to !== 'abandoned')
          return reply.code(400).send({ error: 'status: success | failed | reversed | abandoned' });
        if (!(await settle(t, to))) return reply.code(409).send({ error: `the transfer is already ${t.status}` });
        return transferData(t);
      },
    );
  };
  return { control, reset: () => book.clear() };
}
