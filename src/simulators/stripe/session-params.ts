// Validation of POST /v1/checkout/sessions parameters, with Stripe's error codes: an unknown
// parameter is refused (as Stripe does), which catches a typo in an adapter early.
import { amountRefusal } from './amount-rules.ts';
import type { FormNode, FormTree } from './wire.ts';

export interface SessionParams {
  readonly amountTotal: number;
  readonly currency: string;
  readonly productName: string;
  readonly clientReferenceId: string | null;
  readonly customerEmail: string | null;
  readonly metadata: Record<string, string>;
  readonly paymentIntentMetadata: Record<string, string>;
  readonly successUrl: string;
  readonly cancelUrl: string | null;
  readonly expiresAt: number | null;
}

export interface ParamError {
  readonly code:
    | 'parameter_missing'
    | 'parameter_unknown'
    | 'parameter_invalid_integer'
    | 'parameter_invalid_empty'
    | 'url_invalid'
    | 'amount_too_small'
    | 'invalid_charge_amount_no_decimal_compatible'
    | 'invalid_amount'
    | 'invalid_request';
  readonly message: string;
  readonly param: string;
}

const TOP_LEVEL = new Set([
  'mode',
  'line_items',
  'success_url',
  'cancel_url',
  'client_reference_id',
  'customer_email',
  'metadata',
  'payment_intent_data',
  'expires_at',
  'payment_method_types',
  'locale',
  'submit_type',
  'expand',
]);
const LINE_ITEM = new Set(['quantity', 'price_data']);
const PRICE_DATA = new Set(['currency', 'unit_amount', 'product_data']);
const PRODUCT_DATA = new Set(['name', 'description']);
const PAYMENT_INTENT_DATA = new Set(['metadata', 'description']);

class Refusal extends Error {
  readonly detail: ParamError;
  constructor(detail: ParamError) {
    super(detail.message);
    this.detail = detail;
  }
}

const refuse = (code: ParamError['code'], param: string, message: string): never => {
  throw new Refusal({ code, param, message });
};

function object(
  node: FormNode | undefined,
  param: string,
  allowed: ReadonlySet<string> | undefined,
): FormTree | undefined {
  if (node === undefined) return undefined;
  if (typeof node === 'string' || Array.isArray(node))
    return refuse('invalid_request', param, `Invalid object: ${param} must be a hash.`);
  if (allowed !== undefined)
    for (const key of Object.keys(node))
      if (!allowed.has(key))
        refuse('parameter_unknown', `${param}[${key}]`, `Received unknown parameter: ${param}[${key}]`);
  return node;
}

function text(node: FormNode | undefined, param: string, required: boolean, maxLength = 5000): string | undefined {
  if (node === undefined || node === '')
    return required ? refuse('parameter_missing', param, `Missing required param: ${param}.`) : undefined;
  if (typeof node !== 'string') return refuse('invalid_request', param, `Invalid string: ${param} must be a string.`);
  if (node.length > maxLength)
    return refuse('invalid_request', param, `Invalid string: ${param} must be at most ${maxLength} characters.`);
  return node;
}

function integer(node: FormNode | undefined, param: string, minimum: number): number {
  const value = text(node, param, true)!;
  if (!/^\d{1,15}$/.test(value) || Number(value) < minimum)
    return refuse('parameter_invalid_integer', param, `Invalid integer: ${value.slice(0, 40)}`);
  return Number(value);
}

function url(node: FormNode | undefined, param: string, required: boolean): string | undefined {
  const value = text(node, param, required, 5000);
  if (value === undefined) return undefined;
  try {
    if (!['http:', 'https:'].includes(new URL(value).protocol)) throw new Error('scheme');
  } catch {
    return refuse('url_invalid', param, 'Not a valid URL');
  }
  return value;
}

function metadata(node: FormNode | undefined, param: string): Record<string, string> {
  const tree = object(node, param, undefined);
  if (tree === undefined) return {};
  const entries = Object.entries(tree);
  if (entries.length > 50) refuse('invalid_request', param, 'Metadata can have at most 50 keys.');
  const result: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key.length > 40)
      refuse('invalid_request', `${param}[${key.slice(0, 40)}]`, 'Metadata keys can be at most 40 characters.');
    result[key] = text(value, `${param}[${key}]`, false, 500) ?? '';
  }
  return result;
}

export function parseSessionParams(
  tree: FormTree,
  nowSeconds: number,
): { ok: true; params: SessionParams } | { ok: false; error: ParamError } {
  try {
    for (const key of Object.keys(tree))
      if (!TOP_LEVEL.has(key)) refuse('parameter_unknown', key, `Received unknown parameter: ${key}`);
    const mode = text(tree.mode, 'mode', true);
    if (mode !== 'payment') refuse('invalid_request', 'mode', 'This simulator supports mode=payment only.');
    const items = tree.line_items;
    if (items === undefined) refuse('parameter_missing', 'line_items', 'Missing required param: line_items.');
    if (!Array.isArray(items) || items.length === 0)
      return refuse('invalid_request', 'line_items', 'Invalid array: line_items must be a non-empty array.');
    let amountTotal = 0;
    let currency: string | undefined;
    let productName = '';
    items.forEach((item, index) => {
      const p = `line_items[${index}]`;
      const line = object(item, p, LINE_ITEM)!;
      const quantity = integer(line.quantity, `${p}[quantity]`, 1);
      const price =
        object(line.price_data, `${p}[price_data]`, PRICE_DATA) ??
        refuse('parameter_missing', `${p}[price_data]`, `Missing required param: ${p}[price_data].`);
      const lineCurrency = text(price.currency, `${p}[price_data][currency]`, true)!.toLowerCase();
      if (!/^[a-z]{3}$/.test(lineCurrency))
        refuse('invalid_request', `${p}[price_data][currency]`, `Invalid currency: ${lineCurrency.slice(0, 10)}`);
      if (currency !== undefined && currency !== lineCurrency)
        refuse('invalid_request', `${p}[price_data][currency]`, 'All line items must use the same currency.');
      currency = lineCurrency;
      const unitAmount = integer(price.unit_amount, `${p}[price_data][unit_amount]`, 0);
      const product =
        object(price.product_data, `${p}[price_data][product_data]`, PRODUCT_DATA) ??
        refuse(
          'parameter_missing',
          `${p}[price_data][product_data]`,
          `Missing required param: ${p}[price_data][product_data].`,
        );
      const name = text(product.name, `${p}[price_data][product_data][name]`, true, 250)!;
      if (index === 0) productName = name;
      amountTotal += unitAmount * quantity;
    });
    if (!Number.isSafeInteger(amountTotal) || amountTotal <= 0)
      refuse('invalid_request', 'line_items', 'The total amount must be a positive integer.');
    const amountProblem = amountRefusal(amountTotal, currency!);
    if (amountProblem !== undefined)
      refuse(amountProblem.code as ParamError['code'], 'line_items[0][price_data][unit_amount]', amountProblem.message);
    const paymentIntentData = object(tree.payment_intent_data, 'payment_intent_data', PAYMENT_INTENT_DATA);
    let expiresAt: number | null = null;
    if (tree.expires_at !== undefined) {
      expiresAt = integer(tree.expires_at, 'expires_at', 0);
      if (expiresAt < nowSeconds + 1800 || expiresAt > nowSeconds + 86_400)
        refuse('invalid_request', 'expires_at', 'expires_at must be between 30 minutes and 24 hours from now.');
    }
    return {
      ok: true,
      params: {
        amountTotal,
        currency: currency!,
        productName,
        clientReferenceId: text(tree.client_reference_id, 'client_reference_id', false, 200) ?? null,
        customerEmail: text(tree.customer_email, 'customer_email', false, 800) ?? null,
        metadata: metadata(tree.metadata, 'metadata'),
        paymentIntentMetadata: metadata(paymentIntentData?.metadata, 'payment_intent_data[metadata]'),
        successUrl: url(tree.success_url, 'success_url', true)!,
        cancelUrl: url(tree.cancel_url, 'cancel_url', false) ?? null,
        expiresAt,
      },
    };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, error: error.detail };
    throw error;
  }
}
