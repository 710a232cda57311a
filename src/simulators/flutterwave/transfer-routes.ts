// Payouts on the v3 API (§1.5): initiate, fetch one (the SDK asks for `//v3/transfers/:id`; the
// router collapses the doubled slash), list, fee. A transfer is queued as NEW; it settles right
// after the answer (transferCompletion: immediate) or when a test says so (manual).
import type { FastifyInstance } from 'fastify';
import type { SimulatorState } from './state.ts';
import { naturalOutcome, readTransferRequest, settleTransfer, transferFee } from './transfers.ts';
import type { V3Gate } from './v3-gate.ts';
import type { WebhookSender } from './webhook-sender.ts';
import { errorEnvelope, parseMajorAmount, successEnvelope, transferData } from './wire.ts';

const PAGE_SIZE = 10;

export function registerTransferRoutes(
  app: FastifyInstance,
  deps: { state: SimulatorState; gate: V3Gate; sender: WebhookSender; nowMs: () => number },
): void {
  const { state, gate } = deps;

  app.post('/v3/transfers', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!(await gate.pass(request, reply, typeof body.reference === 'string' ? body.reference : undefined)))
      return reply;
    const read = readTransferRequest(body);
    if (!read.ok) return reply.code(400).send(errorEnvelope(read.message));
    // References are unique (§1.5); the real error text is UNCERTAIN, this one is ours.
    if (read.request.reference !== undefined && state.transferByReference(read.request.reference) !== undefined)
      return reply.code(400).send(errorEnvelope('A transfer with this reference already exists'));
    const id = state.nextTransferId++;
    const transfer = {
      ...read.request,
      id,
      reference: read.request.reference ?? `SIM-TRF-${id}`,
      fee: transferFee(read.request.amount, read.request.currency),
      status: 'NEW' as const,
      complete_message: '',
      created_at: new Date(deps.nowMs()).toISOString(),
    };
    state.transfers.set(id, transfer);
    if (state.settings.transferCompletion === 'immediate') {
      // After the answer, so the caller sees NEW first, as it would from Flutterwave.
      setImmediate(() => {
        const outcome = naturalOutcome(transfer);
        settleTransfer(state, deps.sender, transfer, outcome.status, outcome.message);
      });
    }
    return successEnvelope('Transfer Queued Successfully', transferData(transfer));
  });

  // Registered before `/:id`; the router prefers the static segment anyway.
  app.get<{ Querystring: { amount?: string; currency?: string } }>('/v3/transfers/fee', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const amount = parseMajorAmount(request.query.amount);
    const currency = (request.query.currency ?? 'NGN').toUpperCase();
    if (amount === undefined || !/^[A-Z]{3}$/.test(currency))
      return reply.code(400).send(errorEnvelope('amount and currency are required'));
    return successEnvelope('Transfer fee fetched', [
      { currency, fee_type: 'value', fee: transferFee(amount, currency) },
    ]);
  });

  app.get<{ Querystring: { status?: string; page?: string } }>('/v3/transfers', async (request, reply) => {
    if (!(await gate.pass(request, reply, undefined))) return reply;
    const wanted = request.query.status?.toUpperCase();
    const all = [...state.transfers.values()].filter((t) => wanted === undefined || t.status === wanted).reverse();
    const page = Math.max(1, Number.parseInt(request.query.page ?? '1', 10) || 1);
    const totalPages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
    return {
      status: 'success',
      message: 'Transfers fetched',
      meta: { page_info: { total: all.length, current_page: page, total_pages: totalPages } },
      data: all.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map((t) => ({ ...transferData(t), approver: null })),
    };
  });

  app.get<{ Params: { id: string } }>('/v3/transfers/:id', async (request, reply) => {
    const transfer = /^\d{1,15}$/.test(request.params.id) ? state.transfers.get(Number(request.params.id)) : undefined;
    if (!(await gate.pass(request, reply, transfer?.reference))) return reply;
    // The not-found text and status are not documented; they follow the transactions' setting.
    if (transfer === undefined)
      return reply.code(state.settings.notFoundHttpStatus).send(errorEnvelope('No transfer was found for this id'));
    return successEnvelope('Transfer fetched', transferData(transfer));
  });
}
