// Collections on the v3 API: create a Standard checkout (§1.2), verify by id or reference (§1.3),
// refund (§1.4). Every handler passes the V3 gate first (key, then API faults).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { takeAnswerFaults, withAnswerFaults } from '../shared/answer-faults.ts';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { pendingTransaction, readStandardPayment } from './checkouts.ts';
import type { SimulatorState, Transaction } from './state.ts';
import type { V3Gate } from './v3-gate.ts';
import { errorEnvelope, parseAmountMinor, refundData, successEnvelope, verifyData } from './wire.ts';

export interface PaymentRouteDeps {
  readonly state: SimulatorState;
  readonly gate: V3Gate;
  readonly nowMs: () => number;
  /** Where checkout links point: the public base URL, or the address the request reached. */
  readonly baseUrlFor: (host: string | undefined) => string;
}

const NOT_FOUND = 'No transaction was found for this id';

export function registerPaymentRoutes(app: FastifyInstance, deps: PaymentRouteDeps): void {
  const { state, gate } = deps;
  // lost_answer_*: the checkout is made and the answer never arrives (../README.md).
  const lost = createLostAnswerFaults(state.faults);

  /** A paid transaction by id, else (unpaidVerify: pending) the checkout that reserved the id. */
  const byId = (id: number): Transaction | undefined => {
    const tx = state.transactions.get(id);
    if (tx !== undefined) return tx;
    const checkout = state.checkoutByTransactionId(id);
    return checkout !== undefined && state.settings.unpaidVerify === 'pending'
      ? pendingTransaction(checkout)
      : undefined;
  };
  /** For a reference with several attempts: the successful one, else the latest. */
  const byReference = (txRef: string): Transaction | undefined => {
    const attempts = state.transactionsFor(txRef);
    const found = attempts.find((t) => t.status === 'successful') ?? attempts.at(-1);
    if (found !== undefined) return found;
    const checkout = state.checkoutsByRef.get(txRef);
    return checkout !== undefined && state.settings.unpaidVerify === 'pending'
      ? pendingTransaction(checkout)
      : undefined;
  };

  const sendVerify = (reply: FastifyReply, tx: Transaction | undefined) => {
    if (tx === undefined) return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope(NOT_FOUND));
    const faults = takeAnswerFaults(state.faults, tx.tx_ref, { amountMinor: tx.amountMinor, currency: tx.currency });
    const data = verifyData(tx, { amountMinor: faults.amountMinor, currency: faults.currency });
    return reply.send(successEnvelope('Transaction fetched successfully', withAnswerFaults(data, faults)));
  };

  app.post('/v3/payments', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!(await gate.pass(request, reply, typeof body.tx_ref === 'string' ? body.tx_ref : undefined))) return reply;
    const read = readStandardPayment(body);
    if (!read.ok) return reply.code(400).send(errorEnvelope(read.message));
    // A currency the account is not enabled for. The text is not in Flutterwave's docs; it is the
    // one its API answered in Flutterwave/flutterwave-node issue #1 (SECONDARY).
    const enabled = state.settings.currencies;
    if (enabled !== null && !enabled.includes(read.payment.currency))
      return reply.code(400).send(errorEnvelope('Invalid currency'));
    // tx_ref must be unique (§1.2), but the docs do not give the error's text: this one is ours.
    if (state.checkoutsByRef.has(read.payment.txRef))
      return reply.code(400).send(errorEnvelope('Duplicate transaction reference'));
    const { sessionDurationMinutes, ...payment } = read.payment;
    const createdMs = deps.nowMs();
    const checkout = {
      ...payment,
      token: state.newToken(),
      status: 'open' as const,
      createdAt: new Date(createdMs).toISOString(),
      transactionId: state.nextTransactionId++,
      expiresAtMs: sessionDurationMinutes === undefined ? undefined : createdMs + sessionDurationMinutes * 60_000,
      declinedAttempts: 0,
    };
    state.addCheckout(checkout);
    const lostAnswer = lost.takeLostAnswer(checkout.txRef);
    if (lostAnswer !== undefined)
      return lost.loseAnswer(lostAnswer, request, reply, errorEnvelope('An error occurred. Please contact support'));
    return successEnvelope('Hosted Link', {
      link: `${deps.baseUrlFor(request.headers.host)}/checkout/${checkout.token}`,
    });
  });

  app.get<{ Params: { id: string } }>('/v3/transactions/:id/verify', async (request, reply) => {
    const tx = /^\d{1,15}$/.test(request.params.id) ? byId(Number(request.params.id)) : undefined;
    if (!(await gate.pass(request, reply, tx?.tx_ref))) return reply;
    return sendVerify(reply, tx);
  });

  // flutterwave-node-v3 does not URL-encode tx_ref (only the space is escaped by fetch), so a
  // reference holding `/` or `:` arrives raw; the query parser takes it as it comes.
  app.get<{ Querystring: { tx_ref?: string } }>('/v3/transactions/verify_by_reference', async (request, reply) => {
    const txRef = typeof request.query.tx_ref === 'string' ? request.query.tx_ref : '';
    if (!(await gate.pass(request, reply, txRef))) return reply;
    return sendVerify(reply, byReference(txRef));
  });

  app.post<{ Params: { id: string } }>('/v3/transactions/:id/refund', async (request, reply) => {
    const tx = /^\d{1,15}$/.test(request.params.id) ? state.transactions.get(Number(request.params.id)) : undefined;
    if (!(await gate.pass(request, reply, tx?.tx_ref))) return reply;
    if (tx === undefined) return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope(NOT_FOUND));
    // The SDK also puts `id` in the body (§1.11); only amount and comments mean anything here.
    const body = (request.body ?? {}) as Record<string, unknown>;
    const refundableMinor = tx.amountMinor - state.refundedTotal(tx.id);
    const amountMinor = body.amount === undefined ? refundableMinor : parseAmountMinor(body.amount, tx.currency);
    // Error texts below are ours: the docs do not show Flutterwave's.
    if (tx.status !== 'successful')
      return reply.code(400).send(errorEnvelope('Only successful transactions can be refunded'));
    if (amountMinor === undefined) return reply.code(400).send(errorEnvelope('amount must be a number greater than 0'));
    if (refundableMinor <= 0 || amountMinor > refundableMinor)
      return reply.code(400).send(errorEnvelope('Refund amount exceeds the amount left to refund'));
    const id = state.nextRefundId++;
    const createdAt = deps.nowMs();
    const refund = {
      id,
      tx_id: tx.id,
      flw_ref: `URF_${createdAt}_${id}`,
      currency: tx.currency,
      amountRefundedMinor: amountMinor,
      comments: typeof body.comments === 'string' ? body.comments : null,
      created_at: new Date(createdAt).toISOString(),
    };
    state.refunds.push(refund);
    return successEnvelope('Transaction refund initiated', refundData(refund));
  });
}
