// Stripe Connect objects as the API answers them (docs.stripe.com/api/transfers, /api/payouts,
// /api/accounts, /api/balance; payouts-research.md §1.4): bare objects, integer minor units,
// lowercase currencies, Unix-second timestamps. Connect events about a connected account carry
// its id in `account`.
import type { ConnectedAccount, Payout, Transfer, TransferReversal } from './connect-state.ts';
import { SIM_API_VERSION } from './wire.ts';

const list = (url: string, data: unknown[], hasMore = false) => ({ object: 'list', data, has_more: hasMore, url });

export function reversalObject(transfer: Transfer, reversal: TransferReversal): Record<string, unknown> {
  return {
    id: reversal.id,
    object: 'transfer_reversal',
    amount: reversal.amount,
    balance_transaction: `txn_${reversal.id.slice(4)}`,
    created: reversal.created,
    currency: transfer.currency,
    destination_payment_refund: `pyr_${reversal.id.slice(4)}`,
    metadata: reversal.metadata,
    source_refund: null,
    transfer: transfer.id,
  };
}

export function transferObject(transfer: Transfer): Record<string, unknown> {
  const amountReversed = transfer.reversals.reduce((sum, r) => sum + r.amount, 0);
  return {
    id: transfer.id,
    object: 'transfer',
    amount: transfer.amount,
    amount_reversed: amountReversed,
    balance_transaction: transfer.balanceTransaction,
    created: transfer.created,
    currency: transfer.currency,
    description: transfer.description,
    destination: transfer.destination,
    destination_payment: transfer.destinationPayment,
    livemode: false,
    metadata: transfer.metadata,
    reversals: {
      ...list(
        `/v1/transfers/${transfer.id}/reversals`,
        transfer.reversals.map((r) => reversalObject(transfer, r)),
      ),
      total_count: transfer.reversals.length,
    },
    reversed: amountReversed === transfer.amount,
    source_transaction: null,
    source_type: 'card',
    transfer_group: transfer.transferGroup,
  };
}

export function payoutObject(payout: Payout): Record<string, unknown> {
  return {
    id: payout.id,
    object: 'payout',
    amount: payout.amount,
    arrival_date: payout.arrivalDate,
    automatic: false,
    balance_transaction: payout.balanceTransaction,
    created: payout.created,
    currency: payout.currency,
    description: payout.description,
    destination: payout.destination,
    failure_balance_transaction: payout.failureBalanceTransaction,
    failure_code: payout.failureCode,
    failure_message: payout.failureMessage,
    livemode: false,
    metadata: payout.metadata,
    method: payout.method,
    original_payout: null,
    reconciliation_status: payout.status === 'paid' ? 'completed' : 'not_applicable',
    reversed_by: null,
    source_type: 'card',
    statement_descriptor: payout.statementDescriptor,
    status: payout.status,
    type: 'bank_account',
  };
}

export function accountObject(account: ConnectedAccount): Record<string, unknown> {
  const bank = account.externalAccount;
  return {
    id: account.id,
    object: 'account',
    business_profile: { name: account.businessName },
    business_type: 'company',
    charges_enabled: true,
    country: account.country,
    created: account.created,
    default_currency: account.defaultCurrency,
    details_submitted: true,
    email: account.email,
    external_accounts: list(`/v1/accounts/${account.id}/external_accounts`, [
      {
        id: bank.id,
        object: 'bank_account',
        account: account.id,
        account_holder_name: bank.accountHolderName,
        account_holder_type: 'company',
        bank_name: bank.bankName,
        country: account.country,
        currency: account.defaultCurrency,
        default_for_currency: true,
        last4: bank.last4,
        status: 'verified',
      },
    ]),
    payouts_enabled: account.payoutsEnabled,
    type: 'custom',
  };
}

export function balanceObject(available: ReadonlyMap<string, number>): Record<string, unknown> {
  const amounts = [...available.entries()].map(([currency, amount]) => ({
    amount,
    currency,
    source_types: { card: amount },
  }));
  return {
    object: 'balance',
    available: amounts,
    livemode: false,
    pending: amounts.map((a) => ({ ...a, amount: 0, source_types: { card: 0 } })),
  };
}

/** An event body; `account` is set for events that happened on a connected account. */
export function connectEventBody(
  id: string,
  type: string,
  object: Record<string, unknown>,
  created: number,
  account: string | undefined,
  previousAttributes?: Record<string, unknown>,
): string {
  return JSON.stringify({
    id,
    object: 'event',
    ...(account === undefined ? {} : { account }),
    api_version: SIM_API_VERSION,
    created,
    data: { object, ...(previousAttributes === undefined ? {} : { previous_attributes: previousAttributes }) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  });
}

export { list as listObject };
