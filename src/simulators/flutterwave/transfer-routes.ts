// Payouts on the v3 API (§1.5): initiate, fetch one (the SDK asks for `//v3/transfers/:id`; the
// router collapses the doubled slash), list, fee. A transfer is queued as NEW; it settles right
// after the answer (transferCompletion: immediate) or when a test says so (manual).
import type { FastifyInstance } from 'fastify';
import { createLostAnswerFaults, hiddenLookupsFor, visible } from '../shared/payout-faults.ts';
import type { SimulatorState, Transfer } from './state.ts';
import { balanceOf, debit } from './transfer-ledger.ts';
import { naturalOutcome, readTransferRequest, settleTransfer, transferFeeThousandths } from './transfers.ts';
import type { V3Gate } from './v3-gate.ts';
import type { WebhookSender } from './webhook-sender.ts';
import {
  errorEnvelope,
  majorNumber,
  parseAmountMinor,
  successEnvelope,
  thousandthsNumber,
  transferData,
} from './wire.ts';

const PAGE_SIZE = 10;
export const DUPLICATE_MESSAGE = 'A transfer with this reference already exists';
export const INSUFFICIENT_MESSAGE = 'DISBURSE FAILED: Insufficient funds in customer wallet';

export function registerTransferRoutes(
  app: FastifyInstance,
  deps: { state: SimulatorState; gate: V3Gate; sender: WebhookSender; nowMs: () => number },
): void {
  const { state, gate } = deps;

  const lost = createLostAnswerFaults(state.faults);
  app.addHook('onClose', async () => lost.releaseAll());

  app.post('/v3/transfers', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const scope = typeof body.reference === 'string' ? body.reference : undefined;
    // API faults (429, 5xx, timeout) and drop_request strike before anything is processed.
    if (!(await gate.pass(request, reply, scope))) return reply;
    if (!lost.beforeProcessing(request, reply, scope)) return reply;
    const read = readTransferRequest(body);
    if (!read.ok) return reply.code(400).send(errorEnvelope(read.message));
    // References are unique (§1.5); the real error text is UNCERTAIN, this one is ours (integrators
    // match "already exists" / "duplicate").
    if (read.request.reference !== undefined && state.transferByReference(read.request.reference) !== undefined)
      return reply.code(400).send(errorEnvelope(DUPLICATE_MESSAGE));
    const id = state.nextTransferId++;
    const transfer: Transfer = {
      ...read.request,
      id,
      reference: read.request.reference ?? `SIM-TRF-${id}`,
      feeThousandths: transferFeeThousandths(read.request.amountMinor, read.request.currency),
      status: 'NEW' as const,
      complete_message: '',
      created_at: new Date(deps.nowMs()).toISOString(),
      hiddenLookups: hiddenLookupsFor(state.faults, scope),
    };
    state.addTransfer(transfer);
    const answer = successEnvelope('Transfer Queued Successfully', transferData(transfer));
    // Flutterwave queues first and checks the wallet when it disburses: a short balance is a
    // FAILED transfer with this complete_message, not a refusal of the create.
    const short =
      state.faults.take(['insufficient_balance'], scope) !== undefined ||
      !debit(state, transfer.currency, transfer.amountMinor);
    const stuck = state.faults.take(['stuck_pending'], scope) !== undefined;
    const settle = () => {
      if (short) return settleTransfer(state, deps.sender, transfer, 'FAILED', INSUFFICIENT_MESSAGE);
      if (stuck || state.settings.transferCompletion !== 'immediate') return false;
      const outcome = naturalOutcome(transfer);
      return settleTransfer(state, deps.sender, transfer, outcome.status, outcome.message);
    };
    if (state.faults.take(['webhook_before_answer'], scope) !== undefined) {
      settle();
      while (state.webhooks.some((entry) => !entry.done)) await new Promise((resolve) => setTimeout(resolve, 5));
    } else {
      // After the answer, so the caller sees NEW first, as it would from Flutterwave.
      setImmediate(settle);
    }
    if (state.faults.take(['duplicate_reference'], scope) !== undefined)
      return reply.code(400).send(errorEnvelope(DUPLICATE_MESSAGE));
    const lostAnswer = lost.takeLostAnswer(scope);
    if (lostAnswer !== undefined) {
      await lost.loseAnswer(lostAnswer, request, reply, errorEnvelope('An error occurred. Please contact support'));
      return reply;
    }
    return answer;
  });

  // Registered before `/:id`; the router prefers the static segment anyway.
  app.get<{ Querystring: { amount?: string; currency?: string } }>('/v3/transfers/fee', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const currency = (request.query.currency ?? 'NGN').toUpperCase();
    const amountMinor = parseAmountMinor(request.query.amount, currency);
    if (amountMinor === undefined) return reply.code(400).send(errorEnvelope('amount and currency are required'));
    return successEnvelope('Transfer fee fetched', [
      { currency, fee_type: 'value', fee: thousandthsNumber(transferFeeThousandths(amountMinor, currency)) },
    ]);
  });

  // `?reference=` is not in the SDK's types but integrators use it (payouts research §1.2); it
  // answers a list (data[0] is the transfer), empty when nothing carries the reference.
  app.get<{ Querystring: { status?: string; page?: string; reference?: string } }>(
    '/v3/transfers',
    async (request, reply) => {
      if (!(await gate.pass(request, reply, request.query.reference))) return reply;
      const wanted = request.query.status?.toUpperCase();
      const { reference } = request.query;
      const all = [...state.transfers.values()]
        .filter((t) => wanted === undefined || t.status === wanted)
        .filter((t) => reference === undefined || (t.reference === reference && visible(t)))
        .reverse();
      const page = Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1);
      const totalPages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
      return {
        status: 'success',
        message: 'Transfers fetched',
        meta: { page_info: { total: all.length, current_page: page, total_pages: totalPages } },
        data: all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((t) => ({ ...transferData(t), approver: null })),
      };
    },
  );

  app.get('/v3/balances', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const currencies = new Set(['NGN', 'GHS', 'KES', 'USD', ...state.balances.keys()]);
    return successEnvelope(
      'Wallet balances fetched',
      [...currencies].map((currency) => {
        const major = majorNumber(balanceOf(state, currency), currency);
        return { currency, available_balance: major, ledger_balance: major };
      }),
    );
  });

  app.get<{ Params: { id: string } }>('/v3/transfers/:id', async (request, reply) => {
    const found = /^\d{1,15}$/.test(request.params.id) ? state.transfers.get(Number(request.params.id)) : undefined;
    if (!(await gate.pass(request, reply, found?.reference))) return reply;
    const transfer = found !== undefined && visible(found) ? found : undefined;
    // The not-found text and status are not documented; they follow the transactions' setting.
    if (transfer === undefined)
      return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope('No transfer was found for this id'));
    return successEnvelope('Transfer fetched', transferData(transfer));
  });
}
