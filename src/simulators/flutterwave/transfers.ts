// Payouts (§1.5): reading a POST /v3/transfers body, the fee, and settling a transfer (NEW ->
// SUCCESSFUL or FAILED) with its `transfer.completed` webhook.
import { accountResolves, simulatedAccountName } from '../shared/accounts.ts';
import { SIMULATED_BANKS } from './banks.ts';
import type { SimulatorState, Transfer } from './state.ts';
import { takeWebhookFaults, type WebhookSender } from './webhook-sender.ts';
import { knownExponent } from '../../money/currencies.ts';
import { parseAmountMinor } from './wire.ts';

export type TransferRequest = Pick<
  Transfer,
  | 'account_number'
  | 'bank_code'
  | 'bank_name'
  | 'full_name'
  | 'currency'
  | 'debit_currency'
  | 'amountMinor'
  | 'meta'
  | 'narration'
  | 'callbackUrl'
> & { reference: string | undefined };

const optionalText = (value: unknown, max: number): string | undefined | false =>
  value === undefined || value === null ? undefined : typeof value === 'string' && value.length <= max ? value : false;

/** Mirrors the SDK's schema (services/schema/create.js); the messages are ours. */
export function readTransferRequest(
  body: Record<string, unknown>,
): { ok: true; request: TransferRequest } | { ok: false; message: string } {
  const currency = body.currency ?? 'NGN';
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency))
    return { ok: false, message: 'currency must be a 3-letter code' };
  // Exactly, in the currency's minor units: 75.505 NGN is refused, never rounded.
  const amountMinor = parseAmountMinor(body.amount, currency.toUpperCase());
  if (amountMinor === undefined) return { ok: false, message: 'amount must be a number greater than 0' };
  const debitCurrency = body.debit_currency ?? currency;
  if (typeof debitCurrency !== 'string' || !/^[A-Za-z]{3}$/.test(debitCurrency))
    return { ok: false, message: 'debit_currency must be a 3-letter code' };
  if (typeof body.account_bank !== 'string' || body.account_bank.length < 2 || body.account_bank.length > 11)
    return { ok: false, message: 'account_bank is required' };
  if (typeof body.account_number !== 'string' || !/^\+?[0-9]{6,20}$/.test(body.account_number.trim()))
    return { ok: false, message: 'account_number is required' };
  const bank = Object.values(SIMULATED_BANKS)
    .flat()
    .find((b) => b.code === body.account_bank);
  if (bank === undefined) return { ok: false, message: 'Unknown bank code' };
  const narration = optionalText(body.narration, 100);
  const reference = optionalText(body.reference, 100);
  const beneficiaryName = optionalText(body.beneficiary_name, 100);
  const callbackUrl = optionalText(body.callback_url, 100);
  if (narration === false || reference === false || beneficiaryName === false)
    return { ok: false, message: 'narration, reference and beneficiary_name are strings of at most 100 characters' };
  if (callbackUrl === false || (callbackUrl !== undefined && !/^https?:\/\//.test(callbackUrl)))
    return { ok: false, message: 'callback_url must be an http(s) URL of at most 100 characters' };
  const accountNumber = body.account_number.trim();
  return {
    ok: true,
    request: {
      account_number: accountNumber,
      bank_code: bank.code,
      bank_name: bank.name.toUpperCase(),
      full_name: beneficiaryName ?? simulatedAccountName(accountNumber),
      currency: currency.toUpperCase(),
      debit_currency: debitCurrency.toUpperCase(),
      amountMinor,
      meta: body.meta ?? null,
      narration: narration ?? '',
      callbackUrl,
      reference: reference?.trim() === '' ? undefined : reference,
    },
  };
}

/**
 * The fee in thousandths of a major unit, from integer minor units: NGN in the shape of the docs'
 * examples (26.875 on 5,500 and on 30,020); elsewhere 1 %, rounded down to a whole minor unit.
 */
export function transferFeeThousandths(amountMinor: number, currency: string): number {
  if (currency === 'NGN') return amountMinor <= 500_000 ? 10_750 : amountMinor <= 5_000_000 ? 26_875 : 53_750;
  const feeMinor = Math.floor(amountMinor / 100);
  const exponent = knownExponent(currency) ?? 2;
  return exponent <= 3 ? feeMinor * 10 ** (3 - exponent) : Math.floor(feeMinor / 10 ** (exponent - 3));
}

/** How a transfer ends on its own: an account that does not resolve fails, as it would at the bank. */
export function naturalOutcome(transfer: Transfer): { status: 'SUCCESSFUL' | 'FAILED'; message: string } {
  return accountResolves(transfer.account_number)
    ? { status: 'SUCCESSFUL', message: 'Successful' }
    : { status: 'FAILED', message: 'DISBURSE FAILED: Account number is invalid' };
}

/**
 * Settles a NEW or PENDING transfer and sends its webhook; false when it was already final. With
 * out_of_order, a stale `transfer.completed` carrying the transfer as it was before it settled
 * (still NEW) follows the final one, as a late retry of an earlier delivery would arrive.
 */
export function settleTransfer(
  state: SimulatorState,
  sender: WebhookSender,
  transfer: Transfer,
  status: 'SUCCESSFUL' | 'FAILED',
  message: string,
): boolean {
  if (transfer.status !== 'NEW' && transfer.status !== 'PENDING') return false;
  const stale = state.faults.take(['out_of_order'], transfer.reference) !== undefined ? { ...transfer } : undefined;
  transfer.status = status;
  transfer.complete_message = message;
  const webhook = takeWebhookFaults(state, transfer.reference);
  if (webhook.send)
    void sender
      .sendTransfer(transfer, webhook.options)
      .then(() => (stale === undefined ? undefined : sender.sendTransfer(stale, webhook.options)));
  return true;
}
