// Stripe's Connect side of the /_sim/ control API (loopback only, ../README.md): seed connected
// accounts and balances, read the ledger (every transfer and payout: the judge of exactly once),
// settle payouts as the bank would, and move the clock on so idempotency keys expire.
import type { FastifyInstance } from 'fastify';
import type { ConnectLifecycle } from './connect-lifecycle.ts';
import { type ConnectState, PLATFORM_ACCOUNT, type PayoutStatus, referenceOf } from './connect-state.ts';
import { accountObject, payoutObject, transferObject } from './connect-wire.ts';

const SETTLE_TO: readonly PayoutStatus[] = ['paid', 'failed', 'canceled'];

export interface LedgerRow {
  readonly reference: string | null;
  readonly id: string;
  readonly kind: 'transfer' | 'payout';
  readonly amountMinor: number;
  readonly currency: string;
  readonly status: string;
  readonly account: string;
}

export function ledgerRows(connect: ConnectState): LedgerRow[] {
  const transfers = [...connect.transfers.values()].map((t) => {
    const reversed = t.reversals.reduce((sum, r) => sum + r.amount, 0);
    return {
      reference: referenceOf(t) ?? null,
      id: t.id,
      kind: 'transfer' as const,
      amountMinor: t.amount,
      currency: t.currency.toUpperCase(),
      status: reversed === 0 ? 'created' : reversed === t.amount ? 'reversed' : 'partially_reversed',
      account: t.destination,
    };
  });
  const payouts = [...connect.payouts.values()].map((p) => ({
    reference: referenceOf(p) ?? null,
    id: p.id,
    kind: 'payout' as const,
    amountMinor: p.amount,
    currency: p.currency.toUpperCase(),
    status: p.status,
    account: p.account,
  }));
  return [...transfers, ...payouts];
}

/** Validates the Connect settings of PUT /_sim/config; answers the changes or an error. */
export function readConnectSettings(body: Record<string, unknown>): { ok: true } | { ok: false; error: string } {
  if (
    body.payoutCompletion !== undefined &&
    body.payoutCompletion !== 'immediate' &&
    body.payoutCompletion !== 'manual'
  )
    return { ok: false, error: 'payoutCompletion: immediate | manual' };
  return { ok: true };
}

export function registerConnectControl(
  control: FastifyInstance,
  deps: { connect: ConnectState; lifecycle: ConnectLifecycle },
): void {
  const { connect, lifecycle } = deps;

  control.post<{ Body: Record<string, unknown> | undefined }>('/accounts', async (request, reply) => {
    const body = request.body ?? {};
    const country = body.country ?? 'US';
    const currency = body.default_currency ?? 'usd';
    if (typeof country !== 'string' || !/^[A-Za-z]{2}$/.test(country))
      return reply.code(400).send({ error: 'country: two letters' });
    if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
      return reply.code(400).send({ error: 'default_currency: three letters' });
    if (body.id !== undefined && (typeof body.id !== 'string' || !/^acct_[A-Za-z0-9]{6,40}$/.test(body.id)))
      return reply.code(400).send({ error: 'id: acct_ and 6 to 40 letters or digits' });
    if (typeof body.id === 'string' && connect.accounts.has(body.id))
      return reply.code(409).send({ error: 'an account with this id exists' });
    const accountNumber = body.account_number;
    if (accountNumber !== undefined && (typeof accountNumber !== 'string' || !/^\d{4,20}$/.test(accountNumber)))
      return reply.code(400).send({ error: 'account_number: 4 to 20 digits (ending in 0000: its payouts fail)' });
    const account = connect.createAccount({
      country,
      defaultCurrency: currency,
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
      ...(typeof body.business_name === 'string' ? { businessName: body.business_name.slice(0, 100) } : {}),
      ...(typeof accountNumber === 'string' ? { accountNumber } : {}),
    });
    if (body.payouts_enabled === false) account.payoutsEnabled = false;
    return reply.code(201).send(accountObject(account));
  });

  control.get('/accounts', async () => [...connect.accounts.values()].map(accountObject));

  // Sets an available balance: the platform's by default, or a connected account's.
  control.post<{ Body: { account?: unknown; currency?: unknown; amountMinor?: unknown } | undefined }>(
    '/balance',
    async (request, reply) => {
      const { account = PLATFORM_ACCOUNT, currency, amountMinor } = request.body ?? {};
      const balance = typeof account === 'string' ? connect.balanceOf(account) : undefined;
      if (balance === undefined) return reply.code(404).send({ error: 'no such account' });
      if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
        return reply.code(400).send({ error: 'currency: three letters' });
      if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor) || amountMinor < 0)
        return reply.code(400).send({ error: 'amountMinor: a whole number >= 0' });
      balance.set(currency.toLowerCase(), amountMinor);
      return Object.fromEntries(balance);
    },
  );

  control.get<{ Querystring: { reference?: string } }>('/ledger', async (request) => {
    const rows = ledgerRows(connect);
    return request.query.reference === undefined ? rows : rows.filter((r) => r.reference === request.query.reference);
  });
  control.get('/transfers', async () => [...connect.transfers.values()].map(transferObject));
  control.get('/payouts', async () =>
    [...connect.payouts.values()].map((p) => ({ ...payoutObject(p), account: p.account, history: p.history })),
  );

  // Settles a payout as the bank would (what payoutCompletion "manual" and stuck_pending wait
  // for): paid, failed (also after paid: the late failure) or canceled; sends its events.
  control.post<{ Params: { id: string }; Body: { status?: unknown; failure_code?: unknown } | undefined }>(
    '/payouts/:id/complete',
    async (request, reply) => {
      const payout =
        connect.payouts.get(request.params.id) ??
        [...connect.payouts.values()].find((p) => referenceOf(p) === request.params.id);
      if (payout === undefined) return reply.code(404).send({ error: 'no payout with this id or reference' });
      const status = (request.body?.status ?? 'paid') as PayoutStatus;
      if (!SETTLE_TO.includes(status)) return reply.code(400).send({ error: 'status: paid | failed | canceled' });
      const failureCode = typeof request.body?.failure_code === 'string' ? request.body.failure_code : undefined;
      payout.stuck = false;
      if (!(await lifecycle.settle(payout, status, failureCode)))
        return reply.code(409).send({ error: `the payout is ${payout.status}; it cannot become ${status}` });
      return { ...payoutObject(payout), history: payout.history };
    },
  );

  control.post<{ Body: { advanceSeconds?: unknown } | undefined }>('/clock', async (request, reply) => {
    const seconds = request.body?.advanceSeconds;
    if (typeof seconds !== 'number' || !Number.isSafeInteger(seconds) || seconds < 0)
      return reply.code(400).send({ error: 'advanceSeconds: a whole number >= 0' });
    connect.advanceClock(seconds);
    // What is due by the new time happens now, with its webhook, as it would have meanwhile.
    for (const payout of connect.payouts.values()) lifecycle.reverseIfDue(payout);
    return { nowSeconds: connect.nowSeconds() };
  });
}
