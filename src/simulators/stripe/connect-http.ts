// What every Connect route shares: reading the form body, the account a request acts for
// (Stripe-Account, else the platform), the gate (key, then API faults aimed at `kind:ref` or
// `ref`), Stripe's list envelope with cursor paging, and the execution of a money-moving POST
// under its Idempotency-Key with the answer faults (lost answer, duplicate, webhook first).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LostAnswerFaults } from '../shared/payout-faults.ts';
import type { ConnectIdempotency } from './connect-idempotency.ts';
import { takeFor } from './connect-lifecycle.ts';
import { type ConnectState, PLATFORM_ACCOUNT } from './connect-state.ts';
import { listObject } from './connect-wire.ts';
import type { SimulatorState } from './state.ts';
import { decodeForm, errorEnvelope, type FormTree } from './wire.ts';

export interface ConnectDeps {
  readonly state: SimulatorState;
  readonly connect: ConnectState;
  readonly idempotency: ConnectIdempotency;
  readonly answers: LostAnswerFaults;
  /** The simulator's key check plus API faults for one scope; false when it answered. */
  readonly apiGate: (request: FastifyRequest, reply: FastifyReply, scope: string | undefined) => Promise<boolean>;
}

export type Kind = 'transfer' | 'payout';

export const apiError = (
  reply: FastifyReply,
  status: number,
  message: string,
  extra: { code?: string; param?: string; type?: string } = {},
) => reply.code(status).send(errorEnvelope(extra.type ?? 'invalid_request_error', message, extra));

export function readForm(request: FastifyRequest): { ok: true; tree: FormTree } | { ok: false; message: string } {
  try {
    return { ok: true, tree: decodeForm(typeof request.body === 'string' ? request.body : '') };
  } catch (error) {
    return { ok: false, message: `Invalid request body: ${error instanceof Error ? error.message : 'unreadable'}` };
  }
}

/** The account a call acts for: the Stripe-Account header, else the platform. */
export function actingAccount(request: FastifyRequest): string {
  const header = request.headers['stripe-account'];
  return typeof header === 'string' && header !== '' ? header : PLATFORM_ACCOUNT;
}

/** Key check and API faults, for faults aimed at this kind of call (`payout:REF`) or at `REF`. */
export async function passGate(
  deps: ConnectDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  kind: Kind,
  ref: string | undefined,
): Promise<boolean> {
  if (!(await deps.apiGate(request, reply, ref === undefined ? undefined : `${kind}:${ref}`))) return false;
  // Checked again (cheap) so faults aimed at the bare reference apply too.
  return ref === undefined ? true : deps.apiGate(request, reply, ref);
}

/** The account of a Stripe-Account header must exist (Stripe: 403, the key has no access to it). */
export function unknownAccount(deps: ConnectDeps, reply: FastifyReply, account: string) {
  if (deps.connect.balanceOf(account) !== undefined) return undefined;
  return apiError(
    reply,
    403,
    `The provided key 'sk_test_***' does not have access to account '${account.slice(0, 40)}' (or that account does not exist). Application access may have been revoked.`,
    { type: 'invalid_request_error', code: 'account_invalid' },
  );
}

const LIST_LIMIT_DEFAULT = 10;

/** Stripe's list: newest first, `limit` 1..100, `starting_after` / `ending_before` cursors. */
export function pageOf<T extends { id: string }>(
  reply: FastifyReply,
  newestFirst: readonly T[],
  query: Record<string, string | undefined>,
  url: string,
  render: (item: T) => unknown,
) {
  const limit = query.limit === undefined ? LIST_LIMIT_DEFAULT : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100)
    return apiError(reply, 400, 'Invalid integer: limit must be between 1 and 100.', {
      code: 'parameter_invalid_integer',
      param: 'limit',
    });
  let items = newestFirst;
  if (query.starting_after !== undefined) {
    const at = items.findIndex((item) => item.id === query.starting_after);
    items = at < 0 ? [] : items.slice(at + 1);
  } else if (query.ending_before !== undefined) {
    const at = items.findIndex((item) => item.id === query.ending_before);
    items = at < 0 ? [] : items.slice(Math.max(0, at - limit), at);
  }
  return listObject(url, items.slice(0, limit).map(render), items.length > limit);
}

const CREATED_RANGE = ['created[gt]', 'created[gte]', 'created[lt]', 'created[lte]'];

/** Stripe's `created[gte]=…` range filters (and `created=` exact), on Unix seconds. */
export function createdMatches(created: number, query: Record<string, string | undefined>): boolean {
  const bound = (key: string) => (query[key] === undefined ? undefined : Number(query[key]));
  const [gt, gte, lt, lte, exact] = [...CREATED_RANGE, 'created'].map(bound);
  return (
    (gt === undefined || created > gt) &&
    (gte === undefined || created >= gte) &&
    (lt === undefined || created < lt) &&
    (lte === undefined || created <= lte) &&
    (exact === undefined || created === exact)
  );
}

/** Refuses query parameters the list does not have (metadata is not a filter on Stripe). */
export function unknownQuery(reply: FastifyReply, query: Record<string, unknown>, known: readonly string[]) {
  const unknown = Object.keys(query).find(
    (k) => !known.includes(k) && !(known.includes('created') && CREATED_RANGE.includes(k)),
  );
  const badRange = Object.entries(query).find(
    ([k, v]) => (k === 'created' || CREATED_RANGE.includes(k)) && !/^\d{1,12}$/.test(String(v)),
  );
  if (unknown === undefined && badRange !== undefined)
    return apiError(reply, 400, `Invalid integer: ${String(badRange[1]).slice(0, 40)}`, {
      code: 'parameter_invalid_integer',
      param: badRange[0],
    });
  return unknown === undefined
    ? undefined
    : apiError(reply, 400, `Received unknown parameter: ${unknown.slice(0, 80)}`, {
        code: 'parameter_unknown',
        param: unknown.slice(0, 80),
      });
}

export type Execution =
  | { readonly kind: 'created'; readonly body: Record<string, unknown>; readonly afterAnswer?: () => Promise<void> }
  | { readonly kind: 'refused'; readonly status: number; readonly body: unknown };

/**
 * Runs a money-moving POST once its parameters are valid: `execute` moves the money and returns
 * the object; the answer is saved under the key (an error raised while executing too) and then
 * sent, lost, refused as a duplicate, or preceded by its webhook, as the faults say.
 */
export async function runIdempotent(
  deps: ConnectDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  run: { save(status: number, body: unknown): string },
  kind: Kind,
  ref: string | undefined,
  execute: () => Execution,
): Promise<FastifyReply> {
  const faults = deps.state.faults;
  const result = execute();
  if (result.kind === 'refused') {
    const text = run.save(result.status, result.body);
    return reply.code(result.status).type('application/json').send(text);
  }
  const lost = takeFor(faults, ['lost_answer_timeout', 'lost_answer_500', 'lost_answer_reset'], kind, ref);
  if (lost?.fault === 'lost_answer_500') {
    // Stripe saves a 500 raised while executing: the retry with this key replays it (§1.4).
    const body = errorEnvelope('api_error', 'An unknown error occurred (simulated, after processing).');
    run.save(500, body);
    await deps.answers.loseAnswer(lost, request, reply, body);
    setImmediate(() => void result.afterAnswer?.());
    return reply;
  }
  const text = run.save(200, result.body);
  const first = takeFor(faults, ['webhook_before_answer'], kind, ref);
  if (first !== undefined) await result.afterAnswer?.();
  else setImmediate(() => void result.afterAnswer?.());
  if (lost !== undefined) {
    await deps.answers.loseAnswer(lost, request, reply, undefined);
    return reply;
  }
  if (takeFor(faults, ['duplicate_reference'], kind, ref) !== undefined)
    // The answer to a repeat that raced the first (which created it): not saved; a retry with the
    // key replays the saved object.
    return apiError(
      reply,
      409,
      `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please try again later.`,
      { code: 'idempotency_key_in_use' },
    );
  return reply.type('application/json').send(text);
}
