// In-memory state of the KwikPaisa simulator: orders (each with its hosted checkout), injected
// faults, settings and the log of webhooks sent. Nothing persists; `reset` clears it all except
// settings (../shared/world.ts).
import { randomBytes, randomUUID } from 'node:crypto';
import { commonState, resetWorld } from '../shared/world.ts';

export interface Order {
  readonly token: string;
  readonly kwikxOrderId: string;
  /** As the merchant sent it (number or string); echoed back in that type, as the docs show. */
  readonly orderId: string | number;
  /** Integer paise; the wire's "105.00" is written from it (wire.ts). */
  readonly amountMinor: number;
  readonly currency: string;
  readonly note: string | null;
  readonly serviceType: string;
  readonly returnUrl: string;
  readonly customer: { name: string; email: string; phone: string };
  /** UN_PAID until the customer acts; PAID or FAILED after. FAILED is our word (undocumented). */
  status: 'UN_PAID' | 'PAID' | 'FAILED';
  transactionId: string | null;
  paymentMethod: string | null;
  readonly createdAt: Date;
  paidAt: Date | null;
}

export type SortSetting = 'recursive' | 'top-level' | 'any';

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  /** Which key sort a request signature must use to be accepted (the docs contradict themselves). */
  requestSignatureSort: SortSetting;
  /** How webhook bodies are serialised; the signature is always over exactly the bytes sent. */
  webhookBodySort: 'recursive' | 'top-level' | 'none';
  /** X-TIMESTAMP window for requests (ours; KwikPaisa documents none). */
  timestampToleranceSeconds: number;
  /** Added to the webhook X-TIMESTAMP, to send stale or future-dated deliveries. */
  webhookTimestampOffsetSeconds: number;
}

export const orderKey = (orderId: string | number) => String(orderId);

export function createState(webhookUrl: string | undefined) {
  const state = {
    orders: new Map<string, Order>(),
    ordersByToken: new Map<string, Order>(),
    ...commonState<SimulatorSettings>({
      webhookUrl,
      requestSignatureSort: 'any',
      webhookBodySort: 'recursive',
      timestampToleranceSeconds: 300,
      webhookTimestampOffsetSeconds: 0,
    }),
    nextTransaction: 938_482_920,
    newToken: () => randomBytes(12).toString('hex'),
    newKwikxOrderId: () => `kp_${randomUUID()}`,
    reset(): void {
      resetWorld(state, [state.orders, state.ordersByToken]);
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
