// Reading the form parameters of POST /v1/transfers, /v1/transfers/:id/reversals and /v1/payouts
// as Stripe does: unknown parameters refused, integers checked, metadata bounded (50 keys, key
// 40 characters, value 500). The messages follow Stripe's; where its exact text is not known to
// us they are ours in Stripe's form.
import type { FormNode, FormTree } from './wire.ts';

export interface ParamError {
  readonly message: string;
  readonly param: string;
  readonly code: string;
}

export type Read<T> = { ok: true; value: T } | { ok: false; error: ParamError };

const fail = (param: string, message: string, code = 'parameter_invalid'): { ok: false; error: ParamError } => ({
  ok: false,
  error: { param, message, code },
});

function unknownParam(tree: FormTree, known: readonly string[]): ParamError | undefined {
  const unknown = Object.keys(tree).find((key) => !known.includes(key));
  return unknown === undefined
    ? undefined
    : {
        param: unknown.slice(0, 80),
        message: `Received unknown parameter: ${unknown.slice(0, 80)}`,
        code: 'parameter_unknown',
      };
}

function text(tree: FormTree, name: string, max: number): Read<string | null> {
  const value = tree[name];
  if (value === undefined || value === '') return { ok: true, value: null };
  if (typeof value !== 'string' || value.length > max)
    return fail(name, `Invalid ${name}: must be a string of at most ${max} characters.`);
  return { ok: true, value };
}

function positiveInteger(tree: FormTree, name: string, required: boolean): Read<number | undefined> {
  const value = tree[name];
  if (value === undefined) {
    return required
      ? fail(name, `Missing required param: ${name}.`, 'parameter_missing')
      : { ok: true, value: undefined };
  }
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value))
    return fail(
      name,
      `Invalid integer: ${typeof value === 'string' ? value.slice(0, 40) : name}`,
      'parameter_invalid_integer',
    );
  const amount = Number(value);
  if (amount < 1) return fail(name, 'This value must be greater than or equal to 1.', 'parameter_invalid_integer');
  return { ok: true, value: amount };
}

function currency(tree: FormTree): Read<string> {
  const value = tree.currency;
  if (value === undefined) return fail('currency', 'Missing required param: currency.', 'parameter_missing');
  if (typeof value !== 'string' || !/^[A-Za-z]{3}$/.test(value))
    return fail('currency', `Invalid currency: ${String(value).slice(0, 10)}.`, 'parameter_invalid');
  return { ok: true, value: value.toLowerCase() };
}

export function readMetadata(node: FormNode | undefined): Read<Record<string, string>> {
  if (node === undefined || node === '') return { ok: true, value: {} };
  if (typeof node !== 'object' || Array.isArray(node)) return fail('metadata', 'Invalid object', 'parameter_invalid');
  const entries = Object.entries(node);
  if (entries.length > 50) return fail('metadata', 'You can specify up to 50 keys in metadata.');
  const metadata: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value !== 'string') return fail(`metadata[${key.slice(0, 40)}]`, 'Invalid metadata value: a string.');
    if (key.length > 40) return fail('metadata', 'Metadata keys can be at most 40 characters long.');
    if (value.length > 500) return fail(`metadata[${key}]`, 'Metadata values can be at most 500 characters long.');
    metadata[key] = value;
  }
  return { ok: true, value: metadata };
}

export interface TransferParams {
  readonly amount: number;
  readonly currency: string;
  readonly destination: string;
  readonly transferGroup: string | null;
  readonly description: string | null;
  readonly metadata: Record<string, string>;
}

export function readTransferParams(tree: FormTree): Read<TransferParams> {
  const unknown = unknownParam(tree, [
    'amount',
    'currency',
    'destination',
    'transfer_group',
    'description',
    'metadata',
    'expand',
  ]);
  if (unknown !== undefined) return { ok: false, error: unknown };
  const amount = positiveInteger(tree, 'amount', true);
  if (!amount.ok) return amount;
  const cur = currency(tree);
  if (!cur.ok) return cur;
  if (typeof tree.destination !== 'string' || tree.destination === '')
    return fail('destination', 'Missing required param: destination.', 'parameter_missing');
  const group = text(tree, 'transfer_group', 255);
  if (!group.ok) return group;
  const description = text(tree, 'description', 1000);
  if (!description.ok) return description;
  const metadata = readMetadata(tree.metadata);
  if (!metadata.ok) return metadata;
  return {
    ok: true,
    value: {
      amount: amount.value as number,
      currency: cur.value,
      destination: tree.destination,
      transferGroup: group.value,
      description: description.value,
      metadata: metadata.value,
    },
  };
}

export function readReversalParams(
  tree: FormTree,
): Read<{ amount: number | undefined; metadata: Record<string, string> }> {
  const unknown = unknownParam(tree, ['amount', 'metadata', 'description', 'refund_application_fee', 'expand']);
  if (unknown !== undefined) return { ok: false, error: unknown };
  const amount = positiveInteger(tree, 'amount', false);
  if (!amount.ok) return amount;
  const metadata = readMetadata(tree.metadata);
  if (!metadata.ok) return metadata;
  return { ok: true, value: { amount: amount.value, metadata: metadata.value } };
}

export interface PayoutParams {
  readonly amount: number;
  readonly currency: string;
  readonly description: string | null;
  readonly statementDescriptor: string | null;
  readonly metadata: Record<string, string>;
  readonly method: 'standard' | 'instant';
  readonly destination: string | null;
}

export function readPayoutParams(tree: FormTree): Read<PayoutParams> {
  const unknown = unknownParam(tree, [
    'amount',
    'currency',
    'description',
    'statement_descriptor',
    'metadata',
    'method',
    'destination',
    'source_type',
    'expand',
  ]);
  if (unknown !== undefined) return { ok: false, error: unknown };
  const amount = positiveInteger(tree, 'amount', true);
  if (!amount.ok) return amount;
  const cur = currency(tree);
  if (!cur.ok) return cur;
  const method = tree.method ?? 'standard';
  if (method !== 'standard' && method !== 'instant')
    return fail('method', 'Invalid method: must be one of standard, instant.');
  if (tree.source_type !== undefined && tree.source_type !== 'card')
    return fail('source_type', 'Invalid source_type: only card is simulated.');
  const description = text(tree, 'description', 1000);
  if (!description.ok) return description;
  const descriptor = text(tree, 'statement_descriptor', 22);
  if (!descriptor.ok) return descriptor;
  const destination = text(tree, 'destination', 255);
  if (!destination.ok) return destination;
  const metadata = readMetadata(tree.metadata);
  if (!metadata.ok) return metadata;
  return {
    ok: true,
    value: {
      amount: amount.value as number,
      currency: cur.value,
      description: description.value,
      statementDescriptor: descriptor.value,
      metadata: metadata.value,
      method,
      destination: destination.value,
    },
  };
}

/** The scope faults are aimed with: our reference, as metadata[reference] or the transfer group. */
export function scopeOfParams(tree: FormTree): string | undefined {
  const metadata = tree.metadata;
  if (typeof metadata === 'object' && !Array.isArray(metadata) && typeof metadata.reference === 'string')
    return metadata.reference;
  return typeof tree.transfer_group === 'string' ? tree.transfer_group : undefined;
}
