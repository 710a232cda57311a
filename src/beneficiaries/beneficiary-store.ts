// Saved beneficiaries (PAY-3): the account is resolved through the provider before it is saved
// (its bank code checked against the provider's list first, by BeneficiaryService.resolve), and
// the resolved holder name is stored with it. The account number (or Stripe connected account
// id) is sealed with the field cipher, bound to the row's id; only its last four characters are
// kept in clear, for display. The holder's name, the email and the metadata are sealed with the
// payload keys (beneficiary-fields.ts); get and list return rows opened. None is ever logged. Deleting keeps the row (payouts point at it)
// but hides it and refuses new payouts to it.
import type { Clock } from '../clock.ts';
import { newestFirstPage } from '../db/pages.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { BeneficiaryRow, Db, Mode } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import { writeAudit, auditActorOf } from '../audit/audit.ts';
import type { RequestContext } from '../payments/payment-service.ts';
import type { ConnectedAccountLookup } from '../providers/payout-types.ts';
import type { SystemKeys } from '../privacy/system-keys.ts';
import type { BeneficiaryService } from './beneficiary-service.ts';
import { namesMatch } from '../payouts/controls/name-match.ts';
import { openBeneficiary, sealBeneficiaryFields } from './beneficiary-fields.ts';

export interface BeneficiaryCreateInput {
  readonly type: 'bank_account' | 'mobile_money' | 'connected_account';
  readonly currency: string;
  readonly country?: string;
  readonly bank_code?: string;
  readonly account_number?: string;
  readonly account_id?: string;
  readonly name?: string;
  readonly email?: string;
  readonly provider?: string;
  readonly metadata?: Record<string, string>;
}

export function toBeneficiaryObject(row: BeneficiaryRow) {
  return {
    id: row.id,
    object: 'beneficiary' as const,
    type: row.type,
    currency: row.currency,
    country: row.country,
    bank_code: row.bank_code,
    bank_name: row.bank_name,
    account_last4: row.account_last4,
    account_name: row.account_name,
    name_check: row.name_check,
    email: row.email,
    provider: row.provider,
    metadata: JSON.parse(row.metadata_json) as Record<string, string>,
    livemode: row.mode === 'live',
    created_at: new Date(row.created_at).toISOString(),
  };
}

/** Given against resolved (src/payouts/controls/name-match.ts); nothing given: nothing to compare. */
function nameCheckOf(given: string | undefined, resolved: string): BeneficiaryRow['name_check'] {
  if (given === undefined) return 'not_given';
  return namesMatch(given, resolved) ? 'match' : 'mismatch';
}

// KwikPaisa documents no account look-up: its bank accounts are checked by form only, strictly
// (IFSC: 4 letters, 0, 6 letters or digits; account number: 9 to 18 digits, as Indian banks
// issue them), paid in INR, and kept with the merchant's name marked unverified, so every payout
// to them is held for approval (rule name_unverified).
const IFSC = /^[A-Z]{4}0[A-Z0-9]{6}$/;
const INDIAN_ACCOUNT_NUMBER = /^[0-9]{9,18}$/;

function unverifiedBankAccount(input: BeneficiaryCreateInput, provider: string) {
  if (input.bank_code === undefined || !IFSC.test(input.bank_code))
    throw new ApiError('parameter_invalid', {
      param: 'bank_code',
      message: 'bank_code must be the branch IFSC: 4 capital letters, 0, then 6 capital letters or digits.',
    });
  if (input.account_number === undefined || !INDIAN_ACCOUNT_NUMBER.test(input.account_number))
    throw new ApiError('parameter_invalid', {
      param: 'account_number',
      message: 'account_number must be 9 to 18 digits.',
    });
  if (input.currency !== 'INR')
    throw new ApiError('parameter_invalid', { param: 'currency', message: `${provider} pays out INR only.` });
  if (input.name === undefined)
    throw new ApiError('parameter_missing', {
      param: 'name',
      message: `${provider} cannot look the account up: give the holder's name as the bank has it.`,
    });
  return {
    account: input.account_number,
    accountName: input.name,
    bankCode: input.bank_code,
    bankName: null,
    provider,
    country: input.country ?? 'IN',
    nameCheck: 'unverified' as const,
  };
}

export function createBeneficiaryStore(deps: {
  db: Db;
  clock: Clock;
  cipher: FieldCipher;
  systemKeys: SystemKeys;
  lookups: BeneficiaryService;
  /** Providers that pay to Stripe connected accounts (no bank look-up for those). */
  connectedAccountProvider: (mode: Mode) => string | undefined;
  /** The provider's view of a connected account (Stripe: GET /v1/accounts/:id), when it has one. */
  lookupConnectedAccount?: (
    mode: Mode,
    provider: string,
    accountId: string,
  ) => Promise<ConnectedAccountLookup | undefined> | undefined;
  /** A provider that pays bank accounts in this country but documents no account look-up (KwikPaisa, IN). */
  unverifiedBankProvider?: (mode: Mode, country: string, provider: string | undefined) => string | undefined;
}) {
  async function create(ctx: RequestContext, input: BeneficiaryCreateInput): Promise<BeneficiaryRow> {
    let resolved: {
      account: string;
      accountName: string;
      bankCode: string | null;
      bankName: string | null;
      provider: string;
      country: string | null;
      nameCheck: BeneficiaryRow['name_check'];
    };
    const unverifiedProvider =
      input.type === 'bank_account' && input.country !== undefined
        ? deps.unverifiedBankProvider?.(ctx.mode, input.country, input.provider)
        : undefined;
    if (unverifiedProvider !== undefined) {
      resolved = unverifiedBankAccount(input, unverifiedProvider);
    } else if (input.type === 'connected_account') {
      const provider = input.provider ?? deps.connectedAccountProvider(ctx.mode);
      if (input.account_id === undefined)
        throw new ApiError('parameter_missing', { param: 'account_id', message: 'account_id (acct_...) is required.' });
      if (provider === undefined)
        throw new ApiError('parameter_invalid', {
          param: 'type',
          message: `No provider pays connected accounts in ${ctx.mode} mode.`,
        });
      // Checked and named by the provider, as a bank account is resolved: it must exist for this
      // key and be able to receive payouts.
      const found = await deps.lookupConnectedAccount?.(ctx.mode, provider, input.account_id);
      if (found?.kind === 'indefinite') throw new ApiError('provider_unavailable');
      if (found?.kind === 'rejected') throw new ApiError('provider_rejected');
      if (found?.kind === 'not_found' || (found?.kind === 'ok' && !found.value.payoutsEnabled))
        throw new ApiError('account_not_resolved', {
          param: 'account_id',
          message:
            found.kind === 'not_found'
              ? 'The provider has no connected account with this id that this key can pay.'
              : 'This connected account cannot receive payouts yet (payouts are not enabled on it).',
        });
      resolved = {
        account: input.account_id,
        accountName: found?.kind === 'ok' ? found.value.accountName : (input.name ?? input.account_id),
        bankCode: null,
        bankName: null,
        provider,
        country: input.country ?? (found?.kind === 'ok' ? found.value.country : null),
        nameCheck: found?.kind === 'ok' ? nameCheckOf(input.name, found.value.accountName) : 'not_given',
      };
    } else {
      if (input.country === undefined) throw new ApiError('parameter_missing', { param: 'country' });
      if (input.bank_code === undefined) throw new ApiError('parameter_missing', { param: 'bank_code' });
      if (input.account_number === undefined) throw new ApiError('parameter_missing', { param: 'account_number' });
      // Bank code checked against the provider's list, then the holder's name asked for.
      const account = await deps.lookups.resolve(
        ctx.mode,
        { account_number: input.account_number, bank_code: input.bank_code, country: input.country, type: input.type },
        input.provider,
      );
      resolved = {
        account: account.account_number,
        accountName: account.account_name,
        bankCode: account.bank_code,
        bankName: account.bank_name,
        provider: account.provider,
        country: input.country,
        nameCheck: nameCheckOf(input.name, account.account_name),
      };
    }
    const id = newId('ben');
    const row: BeneficiaryRow = {
      id,
      mode: ctx.mode,
      type: input.type,
      country: resolved.country,
      currency: input.currency,
      bank_code: resolved.bankCode,
      bank_name: resolved.bankName,
      account_sealed: deps.cipher.encrypt(resolved.account, `beneficiary:${id}`),
      account_last4: resolved.account.slice(-4),
      ...sealBeneficiaryFields(deps.systemKeys, id, {
        account_name: resolved.accountName,
        email: input.email ?? null,
        metadata_json: JSON.stringify(input.metadata ?? {}),
        given_name: input.name ?? null,
      }),
      provider: resolved.provider,
      created_at: deps.clock.nowMs(),
      deleted_at: null,
      name_check: resolved.nameCheck,
    };
    await deps.db.transaction().execute(async (trx) => {
      await trx.insertInto('beneficiaries').values(row).execute();
      await writeAudit(trx, deps.clock, {
        mode: ctx.mode,
        ...auditActorOf(ctx),
        action: 'beneficiary.create',
        objectType: 'beneficiary',
        objectId: id,
        requestId: ctx.requestId,
        ip: ctx.ip,
        details: {
          type: row.type,
          provider: row.provider,
          bankCode: row.bank_code,
          last4: row.account_last4,
          nameCheck: row.name_check,
        },
      });
    });
    return openBeneficiary(deps.systemKeys, row);
  }

  async function get(mode: Mode, id: string): Promise<BeneficiaryRow | undefined> {
    return openBeneficiary(
      deps.systemKeys,
      await deps.db
        .selectFrom('beneficiaries')
        .selectAll()
        .where('id', '=', id)
        .where('mode', '=', mode)
        .where('deleted_at', 'is', null)
        .executeTakeFirst(),
    );
  }

  async function list(mode: Mode, options: { limit: number; startingAfter?: string }) {
    let query = deps.db
      .selectFrom('beneficiaries')
      .selectAll()
      .where('mode', '=', mode)
      .where('deleted_at', 'is', null);
    const cursor = options.startingAfter === undefined ? undefined : await get(mode, options.startingAfter);
    if (options.startingAfter !== undefined && cursor === undefined)
      throw new ApiError('parameter_invalid', {
        param: 'starting_after',
        message: 'starting_after names no beneficiary.',
      });
    const page = await newestFirstPage(query, cursor, options.limit);
    return { ...page, data: await Promise.all(page.data.map((row) => openBeneficiary(deps.systemKeys, row))) };
  }

  async function remove(ctx: RequestContext, id: string): Promise<boolean> {
    return deps.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('beneficiaries')
        .set({ deleted_at: deps.clock.nowMs() })
        .where('id', '=', id)
        .where('mode', '=', ctx.mode)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await writeAudit(trx, deps.clock, {
        mode: ctx.mode,
        ...auditActorOf(ctx),
        action: 'beneficiary.delete',
        objectType: 'beneficiary',
        objectId: id,
        requestId: ctx.requestId,
        ip: ctx.ip,
      });
      return true;
    });
  }

  return { create, get, list, remove };
}

export type BeneficiaryStore = ReturnType<typeof createBeneficiaryStore>;
