// In-memory state of the KwikPaisa simulator: orders (each with its hosted checkout), injected
// faults, settings and the log of webhooks sent. Nothing persists; `reset` clears it all.
import { randomBytes, randomUUID } from 'node:crypto';

export interface Order {
  readonly token: string;
  readonly kwikxOrderId: string;
  /** As the merchant sent it (number or string); echoed back in that type, as the docs show. */
  readonly orderId: string | number;
  /** Exact major units with two decimals, e.g. "105.00". */
  readonly amount: string;
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

// The same names and semantics as the Flutterwave simulator (../README.md).
export const FAULTS = ['delay', 'http_500', 'http_503', 'http_429', 'timeout', 'duplicate_webhook', 'out_of_order', 'wrong_amount', 'wrong_currency', 'bad_signature', 'no_webhook'] as const;
export type FaultName = (typeof FAULTS)[number];
export const API_FAULTS: readonly FaultName[] = ['delay', 'http_500', 'http_503', 'http_429', 'timeout'];

export interface Fault {
  readonly fault: FaultName;
  /** The merchant order id the fault is scoped to (`order_id`, or `tx_ref` as in the Flutterwave simulator). */
  readonly orderId: string | undefined;
  /** Uses left; Infinity for "until cleared". */
  remaining: number;
  readonly value: number | undefined;
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

export interface WebhookLogEntry {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  statusCode: number | null;
  error: string | null;
  done: boolean;
  readonly sentAt: string;
}

export const orderKey = (orderId: string | number) => String(orderId);

export function createState(webhookUrl: string | undefined) {
  const defaults = (): SimulatorSettings => ({ webhookUrl, requestSignatureSort: 'any', webhookBodySort: 'recursive', timestampToleranceSeconds: 300, webhookTimestampOffsetSeconds: 0 });
  const state = {
    orders: new Map<string, Order>(),
    ordersByToken: new Map<string, Order>(),
    faults: [] as Fault[],
    webhooks: [] as WebhookLogEntry[],
    settings: defaults(),
    nextTransaction: 938_482_920,
    newToken: () => randomBytes(12).toString('hex'),
    newKwikxOrderId: () => `kp_${randomUUID()}`,
    /** Takes one use of the first matching fault among `names`, if any. */
    takeFault(names: readonly FaultName[], orderId: string | undefined): Fault | undefined {
      const fault = state.faults.find((f) => names.includes(f.fault) && f.remaining > 0 && (f.orderId === undefined || f.orderId === orderId));
      if (fault === undefined) return undefined;
      fault.remaining -= 1;
      state.faults = state.faults.filter((f) => f.remaining > 0);
      return fault;
    },
    reset() {
      state.orders.clear();
      state.ordersByToken.clear();
      state.faults = [];
      state.webhooks.length = 0;
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
