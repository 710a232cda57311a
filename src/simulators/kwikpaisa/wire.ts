// KwikPaisa v3 shapes and signatures as the simulator speaks them (shared/provider-wire-formats.md
// §4). Written independently of the adapter's signing code, so each checks the other in tests.
import { createHmac } from 'node:crypto';
import { majorToMinor, minorToMajorString } from '../../money/amount.ts';
import type { Order } from './state.ts';

/** Compact JSON, keys sorted at every depth, at the top only, or not at all. */
export function sortedJson(value: unknown, sort: 'recursive' | 'top-level' | 'none'): string {
  if (sort === 'none') return JSON.stringify(value);
  const walk = (v: unknown, deep: boolean): string => {
    if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
    if (Array.isArray(v)) return deep ? `[${v.map((x) => walk(x, true)).join(',')}]` : JSON.stringify(v);
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${deep ? walk(x, true) : (JSON.stringify(x) ?? 'null')}`).join(',')}}`;
  };
  return walk(value, sort === 'recursive');
}

export function kwikPaisaSignature(payload: string, timestamp: string, secretKey: string): string {
  return createHmac('sha256', secretKey)
    .update(payload + timestamp)
    .digest('hex');
}

export const errorEnvelope = (code: number, message: string) => ({ status: false, code, message });

/** `13-05-2026 08:34 AM`, the docs' date format (UTC here). */
export function kwikDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const hours = date.getUTCHours();
  return `${pad(date.getUTCDate())}-${pad(date.getUTCMonth() + 1)}-${date.getUTCFullYear()} ${pad(hours % 12 === 0 ? 12 : hours % 12)}:${pad(date.getUTCMinutes())} ${hours < 12 ? 'AM' : 'PM'}`;
}

/** `return_data` of POST /api/v3/pg/order/status (§4.3). */
export function statusData(
  order: Order,
  overrides: { amountMinor?: number; currency?: string } = {},
): Record<string, unknown> {
  return {
    kwikX_order_id: order.kwikxOrderId,
    order_id: order.orderId,
    // A decimal string ("105.00") in the status answer, as in the docs' example.
    order_amount: minorToMajorString(overrides.amountMinor ?? order.amountMinor, order.currency),
    currency: overrides.currency ?? order.currency,
    order_status: order.status,
    payment_method: order.paymentMethod,
    transaction_id: order.transactionId,
    created_at: kwikDate(order.createdAt),
    paid_at: order.paidAt === null ? null : kwikDate(order.paidAt),
  };
}

/**
 * `return_data` of POST /api/v3/pg/order/create. The v3 body was cut off in the docs; this follows
 * the legacy v2 answer (`payment_link`, `kwikX_order_id`, `order_status: "UN_PAID"`): ours.
 */
export function createData(order: Order, paymentLink: string): Record<string, unknown> {
  return {
    kwikX_order_id: order.kwikxOrderId,
    order_id: order.orderId,
    order_amount: minorToMajorString(order.amountMinor, order.currency),
    order_currency: order.currency,
    order_status: order.status,
    payment_link: paymentLink,
  };
}

export type WebhookEventName = 'payment.success' | 'payment.failed';

/** The webhook payload of §4.6: `order_id` as a string, as in the docs' example. */
export function webhookPayload(order: Order, event: WebhookEventName): Record<string, unknown> {
  return {
    event,
    data: {
      order_id: String(order.orderId),
      amount: minorToMajorString(order.amountMinor, order.currency),
      currency: order.currency,
      status: event === 'payment.success' ? 'PAID' : 'FAILED',
    },
  };
}

/** 105 or 105.5 (a JSON number, the documented type of order_amount) → paise; undefined for
 * anything else, a numeric string included, or more than two decimals. */
export function readOrderAmountMinor(value: unknown): number | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : '';
  if (!/^\d{1,12}(?:\.\d{1,2})?$/.test(text)) return undefined;
  const read = majorToMinor(text, 'INR');
  return read.ok && read.amountMinor > 0 ? read.amountMinor : undefined;
}
