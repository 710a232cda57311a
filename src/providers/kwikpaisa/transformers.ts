// Pure mappings between our types and KwikPaisa v3's wire format (shared/provider-wire-formats.md
// §4.3, §4.5). No I/O here, so every quirk is unit-testable. Amounts cross the wire in MAJOR units:
// a JSON number in requests (the documented type), a decimal string in answers ("105.00");
// conversion is exact (src/money).
import { isRecord, parseJson } from '../webhook-fields.ts';
import { minorToMajorString } from '../../money/amount.ts';
import { answeredCurrency, majorAmountInMinor } from '../verified-amount.ts';
import type { CheckoutRequest, RequestProblem, VerifiedTransaction } from '../types.ts';

export const KWIKPAISA_CURRENCIES = ['INR'] as const;

export type ServiceType = 'DIGITAL' | 'PHYSICAL_GOODS';

/**
 * POST /api/v3/pg/order/create body. `order_id` is our payment id (unique per attempt; the docs
 * allow integer or string). Keys of `customer` are written in sorted order so the top-level and the
 * recursive key sort sign the same bytes (see signing.ts).
 *
 * `order_amount` is documented as "decimal" with the JSON number `105` in the example, so it is
 * sent as a JSON number: the shortest number that reads back as the exact decimal ("105.50" ->
 * 105.5), never a product of float arithmetic. `customer.name` and `customer.phone` are documented
 * as required; our API refuses a payment without them before KwikPaisa is called
 * (checkKwikPaisaRequest), and they are never invented.
 */
export function toOrderCreateBody(
  request: CheckoutRequest,
  serviceType: ServiceType = 'DIGITAL',
): Record<string, unknown> {
  return {
    customer: {
      email: request.customer.email,
      ...(request.customer.name === null ? {} : { name: request.customer.name }),
      ...(request.customer.phone === null ? {} : { phone: request.customer.phone }),
    },
    order_amount: Number(minorToMajorString(request.amountMinor, request.currency)),
    order_currency: request.currency,
    order_id: request.paymentId,
    ...(request.description === null ? {} : { order_note: request.description.slice(0, 250) }),
    return_url: request.redirectUrl,
    service_type: serviceType,
  };
}

export function toOrderStatusBody(paymentId: string): Record<string, unknown> {
  return { order_id: paymentId };
}

// Only `UN_PAID` and `PAID` are documented values of `order_status` (§4.3). The other explicit
// outcomes below are the words the docs use elsewhere (webhook events payment.success,
// payment.failed, payment.expired); anything else, including UN_PAID and PROCESSING, stays
// pending: only an explicit success or failure may change a payment (COL-5).
const ORDER_STATUS: Readonly<Record<string, VerifiedTransaction['status']>> = {
  PAID: 'succeeded',
  SUCCESS: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'failed',
  EXPIRED: 'failed',
};

export function normaliseOrderStatus(providerStatus: unknown): VerifiedTransaction['status'] {
  return typeof providerStatus === 'string'
    ? (ORDER_STATUS[providerStatus.trim().toUpperCase()] ?? 'pending')
    : 'pending';
}

/**
 * The success envelope differs between endpoints (§4.3 vs §4.4): `{"code":"200","status":"success"}`
 * (string code, string status) on orders, `{"status":true,"code":200}` on payouts. Both are read
 * as success; `code`, when present, must be 200 or 201 in either spelling.
 */
function isSuccessEnvelope(parsed: Record<string, unknown>): boolean {
  const statusOk =
    parsed.status === true || (typeof parsed.status === 'string' && parsed.status.toLowerCase() === 'success');
  const code = parsed.code;
  const codeOk = code === undefined || code === null || ['200', '201'].includes(String(code));
  return statusOk && codeOk;
}

/** The payload of a success answer: `return_data` (documented), or `data` (not documented; a
 * guess at the "shapes vary" of the cut-off v3 pages, harmless to accept). */
function payloadOf(parsed: Record<string, unknown>): Record<string, unknown> | undefined {
  if (isRecord(parsed.return_data)) return parsed.return_data;
  if (isRecord(parsed.data)) return parsed.data;
  return undefined;
}

function message(parsed: unknown, httpStatus: number): string {
  return isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message.slice(0, 200) : `HTTP ${httpStatus}`;
}

/** Fields the hosted link may come in. `payment_link` is the legacy v2 name (§4.3); the v3
 * response body was cut off in the docs, so the others are guesses. */
const LINK_FIELDS = ['payment_link', 'payment_url', 'checkout_url', 'link'] as const;

export function parseOrderCreateResponse(
  httpStatus: number,
  body: string,
): { ok: true; link: string; kwikxOrderId: string | undefined } | { ok: false; reason: string } {
  const parsed = parseJson(body);
  if (parsed === undefined) return { ok: false, reason: `HTTP ${httpStatus}, body is not JSON` };
  if ((httpStatus !== 200 && httpStatus !== 201) || !isRecord(parsed) || !isSuccessEnvelope(parsed))
    return { ok: false, reason: message(parsed, httpStatus) };
  // The link at the top level, beside the envelope, is accepted too.
  for (const container of [payloadOf(parsed), parsed]) {
    if (container === undefined) continue;
    for (const field of LINK_FIELDS) {
      const link = container[field];
      if (typeof link === 'string' && isHttpUrl(link)) {
        const id = container.kwikX_order_id ?? container.kwikx_order_id;
        return {
          ok: true,
          link,
          kwikxOrderId: typeof id === 'string' && id.length > 0 && id.length <= 100 ? id : undefined,
        };
      }
    }
  }
  return { ok: false, reason: 'order created but the answer holds no payment link' };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

export type ParsedStatus =
  | { kind: 'found'; transaction: VerifiedTransaction }
  | { kind: 'not_found' }
  | { kind: 'malformed'; reason: string };

/**
 * POST /api/v3/pg/order/status answer (§4.3):
 * `{"code":"200","status":"success","return_data":{"kwikX_order_id","order_id","order_amount":"105.00",
 *   "currency":"INR","order_status":"PAID","transaction_id",…}}`. `order_id` comes back as sent
 * (number or string). Not found is HTTP 404 (§4.5), or an envelope whose `code` is 404.
 */
export function parseOrderStatusResponse(httpStatus: number, body: string): ParsedStatus {
  const parsed = parseJson(body);
  if (parsed === undefined) return { kind: 'malformed', reason: 'status answer is not JSON' };
  if (!isRecord(parsed)) return { kind: 'malformed', reason: 'status answer is not an object' };
  if (httpStatus === 404 || String(parsed.code) === '404') return { kind: 'not_found' };
  if (httpStatus !== 200 || !isSuccessEnvelope(parsed))
    return {
      kind: 'malformed',
      reason: `unexpected status answer (HTTP ${httpStatus}): ${message(parsed, httpStatus)}`,
    };
  const data = payloadOf(parsed);
  if (data === undefined) return { kind: 'malformed', reason: 'status answer lacks return_data' };
  const reference =
    typeof data.order_id === 'string'
      ? data.order_id
      : typeof data.order_id === 'number' && Number.isSafeInteger(data.order_id)
        ? String(data.order_id)
        : undefined;
  if (reference === undefined) return { kind: 'malformed', reason: 'status answer lacks order_id' };
  // `currency` in the status answer; `order_currency` is the request's spelling, accepted too.
  // A missing or unknown currency leaves the amount unconvertible: both then match no order, and
  // verification flags the answer instead of throwing (see verified-amount.ts).
  const currency = answeredCurrency(data.currency ?? data.order_currency);
  const providerTxId =
    [data.kwikX_order_id, data.kwikx_order_id, data.transaction_id].find(
      (v): v is string => typeof v === 'string' && v.length > 0,
    ) ?? reference;
  return {
    kind: 'found',
    transaction: {
      status: normaliseOrderStatus(data.order_status),
      providerStatus:
        typeof data.order_status === 'string' ? data.order_status.slice(0, 50) : String(data.order_status),
      amountMinor: majorAmountInMinor(data.order_amount, currency),
      currency,
      reference,
      providerTxId,
    },
  };
}

/** KwikPaisa's create order requires the customer's name and phone (§4.3); our API makes them optional. */
export function checkKwikPaisaRequest(request: Pick<CheckoutRequest, 'customer'>): RequestProblem | undefined {
  for (const field of ['name', 'phone'] as const) {
    const value = request.customer[field];
    if (value === null || value.trim() === '')
      return {
        code: 'provider_field_required',
        param: `customer.${field}`,
        message: `KwikPaisa requires customer.${field} for every payment; send it with the payment.`,
      };
  }
  return undefined;
}

// The fields KwikPaisa's 422 messages name ("The customer.name field is required.", §4.5), as our API calls them.
const REFUSED_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bcustomer\.(name|email|phone)\b/i, 'customer.$1'],
  [/\border amount\b/i, 'amount'],
  [/\breturn url\b/i, 'redirect_url'],
  [/\border note\b/i, 'description'],
];

/** A 422 the merchant can fix: the field it names, in our terms, and a reason of ours. */
export function kwikPaisaRequestProblem(httpStatus: number, body: string): RequestProblem | undefined {
  if (httpStatus !== 422) return undefined;
  const parsed = parseJson(body);
  const text = isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message : '';
  for (const [pattern, field] of REFUSED_FIELDS) {
    const match = pattern.exec(text);
    if (match === null) continue;
    const param = field.replace('$1', (match[1] ?? '').toLowerCase());
    const why = /required/i.test(text) ? 'is required by KwikPaisa' : 'is not accepted by KwikPaisa';
    return { code: 'provider_refused_field', param, message: `${param} ${why}.` };
  }
  return undefined;
}
