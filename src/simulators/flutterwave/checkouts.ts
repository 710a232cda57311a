// Flutterwave Standard checkouts (§1.2): reading a POST /v3/payments body, and what happens when
// the customer presses Pay or Decline (or a test completes the checkout headlessly).
import type { Checkout, CheckoutCustomer, SimulatorState, Transaction } from './state.ts';
import { takeWebhookFaults, type WebhookSender } from './webhook-sender.ts';
import { isCurrency } from '../../money/currencies.ts';
import { parseAmountMinor } from './wire.ts';

export type StandardPayment = Omit<
  Checkout,
  'token' | 'status' | 'createdAt' | 'transactionId' | 'expiresAtMs' | 'declinedAttempts' | 'maxRetryAttempts'
> & { readonly sessionDurationMinutes: number | undefined; readonly maxRetryAttempts: number | undefined };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** Validates a Standard payment request; the messages are ours (Flutterwave's are not documented). */
export function readStandardPayment(
  body: Record<string, unknown>,
): { ok: true; payment: StandardPayment } | { ok: false; message: string } {
  if (typeof body.tx_ref !== 'string' || body.tx_ref.trim() === '') return { ok: false, message: 'tx_ref is required' };
  const currency = body.currency ?? 'NGN';
  if (typeof currency !== 'string' || !isCurrency(currency.toUpperCase()))
    return { ok: false, message: 'currency must be a 3-letter code' };
  const amountMinor = parseAmountMinor(body.amount, currency.toUpperCase());
  if (amountMinor === undefined) return { ok: false, message: 'amount must be a number greater than 0' };
  if (
    typeof body.redirect_url !== 'string' ||
    !URL.canParse(body.redirect_url) ||
    !/^https?:$/.test(new URL(body.redirect_url).protocol)
  )
    return { ok: false, message: 'redirect_url is required' };
  const customer = isRecord(body.customer) ? body.customer : {};
  if (typeof customer.email !== 'string' || !/^[^\s@]+@[^\s@]+$/.test(customer.email))
    return { ok: false, message: 'customer.email is required' };
  const name = optionalString(customer.name);
  // Standard spells it `phonenumber`; accept the `phone_number` of other endpoints too.
  const phone = optionalString(customer.phonenumber) ?? optionalString(customer.phone_number);
  const checkoutCustomer: CheckoutCustomer = {
    email: customer.email,
    ...(name === undefined ? {} : { name }),
    ...(phone === undefined ? {} : { phonenumber: phone }),
  };
  const title = isRecord(body.customizations) ? optionalString(body.customizations.title) : undefined;
  // session_duration: minutes, at most 1440 (§1.2); max_retry_attempt: declines allowed.
  const wholeNumber = (value: unknown, max: number): number | undefined | false => {
    if (value === undefined || value === null) return undefined;
    const n = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : value;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= max ? n : false;
  };
  const sessionDurationMinutes = wholeNumber(body.session_duration, 1440);
  if (sessionDurationMinutes === false)
    return { ok: false, message: 'session_duration must be a whole number of minutes from 1 to 1440' };
  const maxRetryAttempts = wholeNumber(body.max_retry_attempt, 100);
  if (maxRetryAttempts === false) return { ok: false, message: 'max_retry_attempt must be a whole number from 1' };
  return {
    ok: true,
    payment: {
      txRef: body.tx_ref,
      amountMinor,
      currency: currency.toUpperCase(),
      redirectUrl: body.redirect_url,
      customer: checkoutCustomer,
      meta: body.meta ?? null,
      title: title ?? 'Payment',
      sessionDurationMinutes,
      maxRetryAttempts,
    },
  };
}

function transactionFor(checkout: Checkout, id: number, status: Transaction['status'], createdAt: string): Transaction {
  return {
    id,
    tx_ref: checkout.txRef,
    flw_ref: `FLW-SIM-${id}`,
    amountMinor: checkout.amountMinor,
    currency: checkout.currency,
    status,
    created_at: createdAt,
    customer: {
      id: 215_000_000 + (id % 1_000_000),
      name: checkout.customer.name ?? 'Anonymous customer',
      phone_number: checkout.customer.phonenumber ?? 'N/A',
      email: checkout.customer.email,
      created_at: createdAt,
    },
    meta: checkout.meta,
  };
}

/** How an unpaid checkout verifies (unpaidVerify: pending): under the id its payment will get. */
export const pendingTransaction = (checkout: Checkout): Transaction =>
  transactionFor(checkout, checkout.transactionId, 'pending', checkout.createdAt);

export type Completion = { transaction: Transaction; redirect: string | undefined };

/** Past its session_duration, a checkout can no longer be paid (and says so). */
export function closeIfExpired(checkout: Checkout, nowMs: number): void {
  if (checkout.status === 'open' && checkout.expiresAtMs !== undefined && nowMs >= checkout.expiresAtMs)
    checkout.status = 'expired';
}

export function createCheckoutCompletion(state: SimulatorState, sender: WebhookSender, nowMs: () => number) {
  /**
   * One attempt at an open checkout: a success pays it; a decline is a failed transaction (with
   * its charge.completed webhook, as Flutterwave sends one for failures too) and the checkout
   * stays open for another card, until max_retry_attempt declines. Undefined when not open.
   */
  return function complete(txRef: string, outcome: 'successful' | 'failed'): Completion | undefined {
    const checkout = state.checkoutsByRef.get(txRef);
    if (checkout === undefined) return undefined;
    closeIfExpired(checkout, nowMs());
    if (checkout.status !== 'open') return undefined;
    const now = new Date(nowMs()).toISOString();
    // The first attempt takes the id reserved at creation (an unpaid checkout verifies under it);
    // each later attempt is a new transaction under the same tx_ref.
    const nextId = () =>
      state.transactionsFor(txRef).length === 0 ? checkout.transactionId : state.nextTransactionId++;
    // out_of_order: an earlier failed attempt (say, a first card declined) whose webhook arrives
    // after the success, so a receiver that trusts the latest event would undo the payment.
    const earlierFailure =
      outcome === 'successful' && state.faults.take(['out_of_order'], txRef) !== undefined
        ? transactionFor(checkout, nextId(), 'failed', now)
        : undefined;
    if (earlierFailure !== undefined) state.addTransaction(earlierFailure);
    const transaction = transactionFor(checkout, nextId(), outcome, now);
    state.addTransaction(transaction);
    if (outcome === 'successful') checkout.status = 'paid';
    else {
      checkout.declinedAttempts += 1;
      if (checkout.maxRetryAttempts !== undefined && checkout.declinedAttempts >= checkout.maxRetryAttempts)
        checkout.status = 'expired';
    }

    const webhook = takeWebhookFaults(state, txRef);
    if (webhook.send) {
      const sequence = earlierFailure === undefined ? [transaction] : [transaction, earlierFailure];
      // After the redirect has been answered: the checkout never waits for the merchant's server.
      setImmediate(() => void sender.sendCharges(sequence, webhook.options));
    }
    // Parameter names per §1.2 (from the docs' prose; UNCERTAIN there). After a decline the
    // customer stays on the checkout (redirect undefined) while it is still open.
    const redirect = new URL(checkout.redirectUrl);
    redirect.searchParams.set('status', outcome);
    redirect.searchParams.set('tx_ref', txRef);
    redirect.searchParams.set('transaction_id', String(transaction.id));
    return { transaction, redirect: checkout.status === 'open' ? undefined : redirect.toString() };
  };
}

export type CompleteCheckout = ReturnType<typeof createCheckoutCompletion>;
