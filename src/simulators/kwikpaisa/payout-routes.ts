// KwikPaisa v3 payout endpoints (payouts-research.md §1.5, provider-wire-formats.md §4.4), signed
// like every v3 call. Found: the paths, the headers and signature, the first create fields
// (kwikx_wallet_id, debit_account_type, transfer_type, mobile), the status request and the start
// of its answer ({status: true, code: 200, message: "Payout status fetched successfu…"}), the 403
// wallet text and 409 for a duplicate. Ours (from the legacy v2 payout API): the other create
// fields, the answer bodies after `message`, the status words, the balance endpoint's v3 path.
// KwikPaisa has no documented payout list: the ledger is on /_sim/ only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { majorToMinor, minorToMajorString } from '../../money/amount.ts';
import type { SimulatorGate } from '../shared/api-gate.ts';
import { createLostAnswerFaults } from '../shared/payout-faults.ts';
import { visible } from '../shared/payout-faults.ts';
import { type KwikPayout, type PayoutLifecycle, type PayoutState, payoutData } from './payouts.ts';
import type { SimulatorState } from './state.ts';
import { errorEnvelope } from './wire.ts';

const TRANSFER_MODES = ['IMPS', 'NEFT', 'RTGS', 'UPI'];
const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;

// biome-ignore lint/suspicious/noExplicitAny: fields are checked one by one, as the provider does
type Body = Record<string, any>;

/** "10.12", "10", 10.5 -> paise; undefined unless a positive amount with at most two decimals. */
export function readTransferAmountMinor(value: unknown): number | undefined {
  const text =
    typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : '';
  if (!/^\d{1,12}(?:\.\d{1,2})?$/.test(text)) return undefined;
  const read = majorToMinor(text, 'INR');
  return read.ok && read.amountMinor > 0 ? read.amountMinor : undefined;
}

const payoutOrderIdOf = (body: unknown): string | undefined => {
  const id = typeof body === 'object' && body !== null ? (body as Body).payout_order_id : undefined;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
};

/** The create body's problem, in the provider's 422 words (Laravel-style; ours), or undefined. */
function invalidCreate(body: Body): string | undefined {
  const id = body.payout_order_id;
  if (
    !(
      (typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id)) ||
      (typeof id === 'number' && Number.isSafeInteger(id) && id > 0)
    )
  )
    return 'The payout order id field is required.';
  if (body.debit_account_type !== 'kwikx_wallet') return 'The selected debit account type is invalid.';
  if (typeof body.transfer_type !== 'string' || body.transfer_type === '' || body.transfer_type.length > 32)
    return 'The transfer type field is required.';
  if (typeof body.mobile !== 'string' || !/^\+?\d{7,15}$/.test(body.mobile))
    return 'The mobile must be a valid number.';
  if (body.email !== undefined && (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)))
    return 'The email must be a valid email address.';
  if (body.beneficiary_mode !== undefined && body.beneficiary_mode !== 'onetimetransfer')
    return 'Only the onetimetransfer beneficiary mode is simulated.';
  if (typeof body.transfer_mode !== 'string' || !TRANSFER_MODES.includes(body.transfer_mode.toUpperCase()))
    return `The transfer mode must be one of ${TRANSFER_MODES.join(', ')}.`;
  if (readTransferAmountMinor(body.transfer_amount) === undefined)
    return 'The transfer amount must be a positive amount with at most two decimals.';
  const account = body.account_transfer;
  if (typeof account !== 'object' || account === null || Array.isArray(account))
    return 'The account transfer field is required.';
  if (
    typeof account.account_owner_name !== 'string' ||
    account.account_owner_name.trim() === '' ||
    account.account_owner_name.length > 100
  )
    return 'The account transfer.account owner name field is required.';
  if (typeof account.account_number !== 'string' || !/^\d{6,20}$/.test(account.account_number))
    return 'The account transfer.account number must be 6 to 20 digits.';
  if (typeof account.ifsc_code !== 'string' || !IFSC.test(account.ifsc_code))
    return 'The account transfer.ifsc code is invalid.';
  return undefined;
}

export function registerPayoutRoutes(
  app: FastifyInstance,
  deps: {
    state: SimulatorState;
    payouts: PayoutState;
    lifecycle: PayoutLifecycle;
    gate: SimulatorGate;
    walletId: string;
    nowMs: () => number;
  },
) {
  const { state, payouts, lifecycle } = deps;
  const answers = createLostAnswerFaults(state.faults);
  app.addHook('onClose', async () => {
    answers.releaseAll();
    await lifecycle.close();
  });
  const success = (message: string, data: Record<string, unknown>) => ({
    status: true,
    code: 200,
    message,
    [payouts.settings.payoutDataKey]: data,
  });
  const refuse = (reply: FastifyReply, code: number, message: string) =>
    reply.code(code).send(errorEnvelope(code, message));
  /** Gate and the wallet check every payout call shares; false when answered. */
  async function pass(request: FastifyRequest, reply: FastifyReply, scope: string | undefined): Promise<boolean> {
    if (!(await deps.gate.pass(request, reply, scope))) return false;
    const body = (request.body ?? {}) as Body;
    if (body.kwikx_wallet_id !== deps.walletId) {
      await refuse(reply, 403, 'Invalid wallet ID for selected environment.');
      return false;
    }
    return true;
  }

  app.post('/api/v3/banking/payment/create', async (request, reply) => {
    const scope = payoutOrderIdOf(request.body);
    if (!(await pass(request, reply, scope))) return reply;
    if (!answers.beforeProcessing(request, reply, scope)) return reply;
    const body = (request.body ?? {}) as Body;
    const invalid = invalidCreate(body);
    if (invalid !== undefined) return refuse(reply, 422, invalid);
    const id = String(body.payout_order_id);
    if (payouts.payouts.has(id)) return refuse(reply, 409, 'Duplicate request: this payout order id already exists.');
    const amountMinor = readTransferAmountMinor(body.transfer_amount) as number;
    if (state.faults.take(['insufficient_balance'], id) !== undefined || payouts.walletMinor < amountMinor)
      return refuse(reply, 422, 'Insufficient wallet balance.');
    const before = payouts.walletMinor;
    payouts.walletMinor -= amountMinor;
    const hidden = state.faults.take(['not_found_after_create'], id);
    const now = new Date(deps.nowMs());
    const payout: KwikPayout = {
      payoutOrderId: id,
      systemOrderId: `payout_${payouts.nextRrn.toString(36)}`,
      rrn: String(payouts.nextRrn++),
      amountMinor,
      transferMode: body.transfer_mode.toUpperCase(),
      transferType: body.transfer_type,
      beneficiary: {
        name: body.account_transfer.account_owner_name,
        accountNumber: body.account_transfer.account_number,
        ifsc: body.account_transfer.ifsc_code,
      },
      createdAt: now,
      updatedAt: now,
      status: 'pending',
      message: 'Payout request accepted.',
      history: ['pending'],
      stuck: state.faults.take(['stuck_pending'], id) !== undefined,
      reverseAfterSuccess: state.faults.take(['reversal_after_success'], id) !== undefined,
      hiddenLookups: hidden === undefined ? 0 : Math.max(1, Math.floor(hidden.value ?? 2)),
      posted: body,
    };
    payouts.payouts.set(id, payout);
    const answer = success('Payout request accepted.', {
      type: `fund_transfer[${payout.transferType}]`,
      available_balance_before: minorToMajorString(before, 'INR'),
      transfer_amount: minorToMajorString(amountMinor, 'INR'),
      available_balance_after: minorToMajorString(payouts.walletMinor, 'INR'),
      tranfer_rrn_number: payout.rrn,
      unique_system_order_id: payout.systemOrderId,
      merchant_payout_order_id: payout.payoutOrderId,
      payout_order_id: payout.payoutOrderId,
      txn_status: payoutData(payout, payouts.settings).txn_status,
      msg: payout.message,
    });
    if (state.faults.take(['webhook_before_answer'], id) !== undefined) await lifecycle.afterCreate(payout);
    else setImmediate(() => void lifecycle.afterCreate(payout));
    const lost = answers.takeLostAnswer(id);
    if (lost !== undefined) {
      await answers.loseAnswer(lost, request, reply, errorEnvelope(500, 'Internal server error.'));
      return reply;
    }
    // The payout exists; the answer is the one a repeat of an accepted request gets.
    if (state.faults.take(['duplicate_reference'], id) !== undefined)
      return refuse(reply, 409, 'Duplicate request: this payout order id already exists.');
    return answer;
  });

  app.post('/api/v3/banking/payment/status', async (request, reply) => {
    const scope = payoutOrderIdOf(request.body);
    if (!(await pass(request, reply, scope))) return reply;
    const body = (request.body ?? {}) as Body;
    if (scope === undefined) return refuse(reply, 422, 'The payout order id field is required.');
    if (body.debit_account_type !== undefined && body.debit_account_type !== 'kwikx_wallet')
      return refuse(reply, 422, 'The selected debit account type is invalid.');
    const payout = payouts.payouts.get(scope);
    if (payout === undefined || !visible(payout)) return refuse(reply, 404, 'Transaction not found.');
    const data = { ...payoutData(payout, payouts.settings), posted_data: payout.posted };
    lifecycle.reverseIfDue(payout);
    return success('Payout status fetched successfully.', data);
  });

  // The v2 balance call (`…/payment/account_info`) at the v3 prefix: the v3 path is not documented.
  app.post('/api/v3/banking/payment/account_info', async (request, reply) => {
    if (!(await pass(request, reply, undefined))) return reply;
    return success('Wallet details fetched successfully.', {
      kwikx_wallet_id: deps.walletId,
      default_currency: 'INR',
      wallet_balance: minorToMajorString(payouts.walletMinor, 'INR'),
    });
  });
  /** Lets go of requests held by lost_answer_timeout (on clear and reset). */
  return { releaseAll: () => answers.releaseAll() };
}
