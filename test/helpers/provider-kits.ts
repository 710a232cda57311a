// What the shared fault suite needs to know about each provider: a currency it takes, an amount,
// and how to forge a delivery that must be refused. Everything else (checkout pages, the /_sim/
// control API and its faults) is the same for every simulator by design.
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';
import { canonicalJson, kwikPaisaSignature } from '../../src/providers/kwikpaisa/signing.ts';
import { stripeSignature } from '../../src/providers/stripe/webhook.ts';
import { paystackSignature } from '../../src/providers/paystack/webhook.ts';

export interface ForgedDelivery {
  readonly headers: Record<string, string>;
  readonly body: string;
}

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
}

export const PROVIDER_KITS: readonly ProviderKit[] = [
  {
    name: 'flutterwave',
    majorUnits: true,
    currency: 'NGN',
    amount: 250000,
    webhookOnDecline: true,
    customer: { email: 'c@example.com' },
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
    // A declined card produces no Paystack webhook; reconciliation finds the failure.
    webhookOnDecline: false,
    customer: { email: 'c@example.com' },
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
    customer: { email: 'c@example.com' },
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
