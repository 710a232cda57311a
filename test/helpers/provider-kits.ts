// What the shared fault suite needs to know about each provider: a currency it takes, an amount,
// how to forge a delivery that must be refused, and how to sign one that must be acknowledged.
// Everything else (checkout pages, the /_sim/ control API and its faults) is the same for every
// simulator by design.
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';
import { canonicalJson, kwikPaisaSignature } from '../../src/providers/kwikpaisa/signing.ts';
import { stripeSignature } from '../../src/providers/stripe/webhook.ts';
import { paystackSignature } from '../../src/providers/paystack/webhook.ts';

export interface ForgedDelivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The gateway's test-mode credentials for the provider (config.providers[name].test.credentials). */
export type KitCredentials = Readonly<Record<string, { reveal(): string } | undefined>>;

const secret = (credentials: KitCredentials, field: string): string => {
  const value = credentials[field];
  if (value === undefined) throw new Error(`no ${field} credential`);
  return value.reveal();
};

export interface ProviderKit {
  readonly name: string;
  readonly currency: string;
  readonly amount: number;
  /** Deliveries about this payment that look real but are not signed with our secret. */
  forged(paymentId: string): ForgedDelivery[];
  /** Whether a declined payment at the checkout produces a webhook (else reconciliation finds it). */
  readonly webhookOnDecline: boolean;
  /** Customer fields the provider insists on. */
  readonly customer: Record<string, string>;
  /** Amounts on the wire in major units: then an answer without a currency has no exponent to
   * convert its amount with, and the amount cannot match either. */
  readonly majorUnits: boolean;
  /** A declined card leaves the hosted checkout payable (the provider's checkout does). */
  readonly declineKeepsCheckoutOpen: boolean;
  /** What a payment declined once and never paid ends as after its expiry. */
  readonly afterDeclineAndExpiry: 'failed' | 'expired';
  /** Correctly signed deliveries of events we do not act on (documented ones and unknown types). */
  signedUnactedEvents(credentials: KitCredentials): ForgedDelivery[];
  /** A correctly signed payment webhook naming `paymentId` with the provider's transaction `txId`,
   * for providers that verify by the transaction named (so a wrong pairing can be told). */
  signedPaymentWebhook?(credentials: KitCredentials, paymentId: string, txId: string): ForgedDelivery;
  /** Simulator settings to play a provider feature through (Paystack's fee bearer). */
  readonly feeBearerSetting?: Record<string, string>;
  /** The simulator's checkout offers a delayed method (a bank debit settling days later). */
  readonly delayedMethod?: boolean;
  /** The provider's fee for `amount` as its verify answer reports it, in minor units; undefined:
   * the provider reports none (the payment's provider_fee stays null). */
  readonly reportedFeeMinor?: number;
}

const flutterwaveHeaders = (body: string, credentials: KitCredentials) => ({
  'flutterwave-signature': flutterwaveSignature(body, secret(credentials, 'secretHash')),
});
const paystackHeaders = (body: string, credentials: KitCredentials) => ({
  'x-paystack-signature': paystackSignature(body, secret(credentials, 'secretKey')),
});
const stripeHeaders = (body: string, credentials: KitCredentials) => {
  const now = String(Math.floor(Date.now() / 1000));
  return { 'stripe-signature': `t=${now},v1=${stripeSignature(body, now, secret(credentials, 'webhookSecret'))}` };
};
const kwikPaisaHeaders = (body: string, credentials: KitCredentials, timestamp = Math.floor(Date.now() / 1000)) => ({
  'x-timestamp': String(timestamp),
  'x-signature': kwikPaisaSignature(body, String(timestamp), secret(credentials, 'secretKey')),
});

/** A KwikPaisa delivery signed correctly but `ageSeconds` ago (a late retry with its first X-TIMESTAMP). */
export function lateKwikPaisaDelivery(credentials: KitCredentials, ageSeconds: number): ForgedDelivery {
  const body = canonicalJson({
    event: 'payment.processing',
    data: { order_id: 'pay_late', amount: '1.00', currency: 'INR', status: 'PROCESSING' },
  });
  return { headers: kwikPaisaHeaders(body, credentials, Math.floor(Date.now() / 1000) - ageSeconds), body };
}

export const PROVIDER_KITS: readonly ProviderKit[] = [
  {
    name: 'flutterwave',
    majorUnits: true,
    currency: 'NGN',
    amount: 250000,
    // app_fee: 1.4 % of 2,500.00 NGN, as the simulator follows the docs' example (1.4 on 100).
    reportedFeeMinor: 3500,
    webhookOnDecline: true,
    declineKeepsCheckoutOpen: true,
    afterDeclineAndExpiry: 'failed',
    customer: { email: 'c@example.com' },
    signedUnactedEvents: (credentials) =>
      [
        '{"event":"subscription.cancelled","data":{"id":4011,"status":"cancelled"}}',
        '{"event":"a.type.nobody.documents","data":{"id":"x-1"}}',
        // The legacy flat refund (§1.4): PascalCase, no envelope.
        '{"id":89074,"AmountRefunded":5000,"status":"completed","FlwRef":"flwm3s4m0c1754324273641","TransactionId":8784082}',
      ].map((body) => ({ headers: flutterwaveHeaders(body, credentials), body })),
    signedPaymentWebhook(credentials, paymentId, txId) {
      const body = JSON.stringify({
        event: 'charge.completed',
        data: { id: Number(txId), tx_ref: paymentId, status: 'successful', amount: 2500, currency: 'NGN' },
      });
      return { headers: flutterwaveHeaders(body, credentials), body };
    },
    forged(paymentId): ForgedDelivery[] {
      const body = JSON.stringify({
        event: 'charge.completed',
        data: { id: 999001, tx_ref: paymentId, status: 'successful', amount: 2500, currency: 'NGN' },
      });
      const deliveries: ForgedDelivery[] = [
        { headers: { 'flutterwave-signature': flutterwaveSignature(body, 'not-the-secret-hash') }, body },
        { headers: { 'verif-hash': 'guessed' }, body },
        { headers: {}, body },
      ];
      return deliveries;
    },
  },
  {
    name: 'kwikpaisa',
    majorUnits: true,
    currency: 'INR',
    amount: 10500,
    webhookOnDecline: true,
    // FAILED is the order's end (the simulator's reading; KwikPaisa documents only UN_PAID and PAID).
    declineKeepsCheckoutOpen: false,
    afterDeclineAndExpiry: 'failed',
    signedUnactedEvents: (credentials) =>
      [
        canonicalJson({ event: 'payment.refund', data: { refund_id: 'rf_1' } }),
        canonicalJson({ event: 'settlement.completed', data: { settlement_id: 'st_1' } }),
      ].map((body) => ({ headers: kwikPaisaHeaders(body, credentials), body })),
    // KwikPaisa's order create requires the customer's name and phone.
    customer: { email: 'c@example.com', name: 'Asha Rao', phone: '+919800000000' },
    forged(paymentId): ForgedDelivery[] {
      const body = canonicalJson({
        event: 'payment.success',
        data: { order_id: paymentId, amount: '105.00', currency: 'INR', status: 'PAID' },
      });
      const now = String(Math.floor(Date.now() / 1000));
      const deliveries: ForgedDelivery[] = [
        { headers: { 'x-timestamp': now, 'x-signature': kwikPaisaSignature(body, now, 'not-the-secret') }, body },
        { headers: { 'x-timestamp': now }, body },
        { headers: {}, body },
      ];
      return deliveries;
    },
  },
  {
    name: 'paystack',
    majorUnits: false,
    currency: 'GHS',
    amount: 5000,
    // fees: 1.5 % of 50.00 GHS in pesewas.
    reportedFeeMinor: 75,
    // A declined card produces no Paystack webhook; reconciliation finds the failure.
    webhookOnDecline: false,
    declineKeepsCheckoutOpen: true,
    afterDeclineAndExpiry: 'failed',
    feeBearerSetting: { feeBearer: 'customer' },
    customer: { email: 'c@example.com' },
    // PaystackOSS/doc-code-snippets events.js: refund.pending (no id, refund_reference null) and
    // subscription.expiring_cards (data is an array), plus a type not documented.
    signedUnactedEvents: (credentials) =>
      [
        '{"event":"refund.pending","data":{"status":"pending","transaction_reference":"tvunjbbd_412829_4b18075d_c7had","refund_reference":null,"amount":"10000","currency":"NGN","processor":"instant-transfer","integration":412829,"domain":"live"}}',
        '{"event":"refund.processing","data":{"status":"processing","transaction_reference":"tvunjbbd_412829_4b18075d_c7had","refund_reference":null,"amount":"10000","currency":"NGN","processor":"instant-transfer","integration":412829,"domain":"live"}}',
        '{"event":"subscription.expiring_cards","data":[{"expiry_date":"12/2021","description":"visa ending with 4081","brand":"visa","subscription":{"id":94729,"subscription_code":"SUB_lejj927x2kxciw1","amount":44000}}]}',
        '{"event":"charge.reversal.create","data":{"id":4099}}',
      ].map((body) => ({ headers: paystackHeaders(body, credentials), body })),
    forged(paymentId): ForgedDelivery[] {
      const body = JSON.stringify({
        event: 'charge.success',
        data: {
          id: 4099260999,
          reference: paymentId.replace('_', '-'),
          amount: 5000,
          currency: 'GHS',
          status: 'success',
        },
      });
      const deliveries: ForgedDelivery[] = [
        { headers: { 'x-paystack-signature': paystackSignature(body, 'sk_' + 'test_not_the_secret_key') }, body },
        { headers: { 'x-paystack-signature': 'ab'.repeat(64) }, body },
        { headers: {}, body },
      ];
      return deliveries;
    },
  },
  {
    name: 'stripe',
    majorUnits: false,
    currency: 'USD',
    amount: 2500,
    webhookOnDecline: true,
    declineKeepsCheckoutOpen: true,
    // The simulator keeps Stripe's own clock, so a session outlives our (test-clock) expiry: expired.
    afterDeclineAndExpiry: 'expired',
    delayedMethod: true,
    customer: { email: 'c@example.com' },
    signedUnactedEvents: (credentials) =>
      [
        {
          id: 'evt_unacted_1',
          object: 'event',
          type: 'charge.refunded',
          data: { object: { id: 'ch_1', object: 'charge' } },
        },
        { id: 'evt_unacted_2', object: 'event', type: 'a.type.not.yet.known', data: { object: { id: 'x_1' } } },
      ].map((event) => {
        const body = JSON.stringify(event);
        return { headers: stripeHeaders(body, credentials), body };
      }),
    signedPaymentWebhook(credentials, paymentId, txId) {
      const body = JSON.stringify({
        id: `evt_named_${paymentId.slice(-8)}`,
        object: 'event',
        type: 'checkout.session.completed',
        data: {
          object: {
            id: txId,
            object: 'checkout.session',
            client_reference_id: paymentId,
            payment_status: 'paid',
            status: 'complete',
            amount_total: 2500,
            currency: 'usd',
          },
        },
      });
      return { headers: stripeHeaders(body, credentials), body };
    },
    forged(paymentId): ForgedDelivery[] {
      const body = JSON.stringify({
        id: 'evt_forged',
        object: 'event',
        type: 'checkout.session.completed',
        data: {
          object: {
            id: 'cs_test_forged',
            object: 'checkout.session',
            client_reference_id: paymentId,
            payment_status: 'paid',
            status: 'complete',
            amount_total: 2500,
            currency: 'usd',
          },
        },
      });
      const now = Math.floor(Date.now() / 1000);
      const wrongSecret = 'whsec_' + 'not-the-endpoint-secret';
      const deliveries: ForgedDelivery[] = [
        { headers: { 'stripe-signature': `t=${now},v1=${stripeSignature(body, String(now), wrongSecret)}` }, body },
        {
          headers: {
            'stripe-signature': `t=${now - 3600},v1=${stripeSignature(body, String(now - 3600), wrongSecret)}`,
          },
          body,
        },
        { headers: {}, body },
      ];
      return deliveries;
    },
  },
];
