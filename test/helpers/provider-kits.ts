// What the shared fault suite needs to know about each provider: a currency it takes, an amount,
// and how to forge a delivery that must be refused. Everything else (checkout pages, the /_sim/
// control API and its faults) is the same for every simulator by design.
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';

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
}

export const PROVIDER_KITS: readonly ProviderKit[] = [
  {
    name: 'flutterwave',
    currency: 'NGN',
    amount: 250000,
    webhookOnDecline: true,
    forged(paymentId): ForgedDelivery[] {
      const body = JSON.stringify({ event: 'charge.completed', data: { id: 999001, tx_ref: paymentId, status: 'successful', amount: 2500, currency: 'NGN' } });
      const deliveries: ForgedDelivery[] = [
        { headers: { 'flutterwave-signature': flutterwaveSignature(body, 'not-the-secret-hash') }, body },
        { headers: { 'verif-hash': 'guessed' }, body },
        { headers: {}, body },
      ];
      return deliveries;
    },
  },
];
