// Beneficiary checks before any payout (PAY-3): the provider's bank list, cached for a day; bank
// codes checked against it before a provider is asked anything; account numbers resolved to the
// account holder's name, cached briefly. Kenyan mobile money (M-Pesa) resolves as Flutterwave
// documents it: bank code MPS, type MOBILEMONEY, country KE.
import type { Clock } from '../clock.ts';
import type { Mode } from '../db/schema.ts';
import { ApiError } from '../errors.ts';
import type { ProviderRegistry } from '../providers/registry.ts';
import type { Bank, BeneficiaryLookup } from '../providers/types.ts';

export const BANKS_TTL_MS = 24 * 3_600_000;
export const RESOLVE_TTL_MS = 10 * 60_000;

interface Cached<T> {
  readonly value: T;
  readonly expiresAt: number;
}

export interface ResolveInput {
  readonly account_number: string;
  readonly bank_code: string;
  readonly country: string;
  readonly type?: 'bank_account' | 'mobile_money' | 'MOBILEMONEY';
}

export function createBeneficiaryService(deps: { providers: ProviderRegistry; clock: Clock; maxEntries?: number }) {
  const banksCache = new Map<string, Cached<readonly Bank[]>>();
  const resolveCache = new Map<string, Cached<{ accountNumber: string; accountName: string }>>();
  const maxEntries = deps.maxEntries ?? 10_000;

  function remember<T>(cache: Map<string, Cached<T>>, key: string, value: T, ttlMs: number): void {
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(key, { value, expiresAt: deps.clock.nowMs() + ttlMs });
  }
  function recall<T>(cache: Map<string, Cached<T>>, key: string): T | undefined {
    const hit = cache.get(key);
    if (hit === undefined || hit.expiresAt <= deps.clock.nowMs()) return undefined;
    return hit.value;
  }

  function lookupFor(
    mode: Mode,
    country: string,
    providerName: string | undefined,
  ): { name: string; lookup: BeneficiaryLookup } {
    const found = deps.providers.beneficiaries(mode, country, providerName);
    if (found === undefined) {
      throw new ApiError('parameter_invalid', {
        param: providerName === undefined ? 'country' : 'provider',
        message:
          providerName === undefined
            ? `No configured provider serves banks in ${country}.`
            : `Provider "${providerName}" does not serve banks in ${country} in ${mode} mode.`,
      });
    }
    return found;
  }

  async function listBanks(
    mode: Mode,
    country: string,
    providerName?: string,
  ): Promise<{ provider: string; banks: readonly Bank[] }> {
    const { name, lookup } = lookupFor(mode, country, providerName);
    const key = `${mode}:${name}:${country}`;
    const cached = recall(banksCache, key);
    if (cached !== undefined) return { provider: name, banks: cached };
    const outcome = await lookup.listBanks(country);
    if (outcome.kind === 'indefinite')
      throw new ApiError(
        outcome.notSent === true ? 'rate_limited' : 'provider_unavailable',
        outcome.retryAfterMs === undefined
          ? {}
          : { headers: { 'retry-after': String(Math.max(1, Math.ceil(outcome.retryAfterMs / 1000))) } },
      );
    if (outcome.kind === 'rejected') throw new ApiError('provider_rejected');
    remember(banksCache, key, outcome.value, BANKS_TTL_MS);
    return { provider: name, banks: outcome.value };
  }

  async function resolve(mode: Mode, input: ResolveInput, providerName?: string) {
    const type = input.type === 'mobile_money' || input.type === 'MOBILEMONEY' ? 'mobile_money' : 'bank_account';
    const { provider, banks } = await listBanks(mode, input.country, providerName);
    const bank = banks.find((b) => b.code === input.bank_code);
    // Checked against the provider's own list before the provider is asked to resolve anything.
    if (bank === undefined)
      throw new ApiError('parameter_invalid', {
        param: 'bank_code',
        message: `${input.bank_code} is not a bank code in ${input.country} (see GET /v1/banks?country=${input.country}).`,
      });
    const key = `${mode}:${provider}:${input.country}:${input.bank_code}:${type}:${input.account_number}`;
    let resolved = recall(resolveCache, key);
    if (resolved === undefined) {
      const { lookup } = lookupFor(mode, input.country, provider);
      const outcome = await lookup.resolveAccount({
        accountNumber: input.account_number,
        bankCode: input.bank_code,
        country: input.country,
        type,
      });
      if (outcome.kind === 'not_found') throw new ApiError('account_not_resolved', { param: 'account_number' });
      if (outcome.kind === 'indefinite')
        throw new ApiError(outcome.notSent === true ? 'rate_limited' : 'provider_unavailable');
      if (outcome.kind === 'rejected') throw new ApiError('provider_rejected');
      resolved = outcome.value;
      remember(resolveCache, key, resolved, RESOLVE_TTL_MS);
    }
    return {
      object: 'account' as const,
      account_number: resolved.accountNumber,
      account_name: resolved.accountName,
      bank_code: bank.code,
      bank_name: bank.name,
      country: input.country,
      type,
      provider,
    };
  }

  return { listBanks, resolve };
}

export type BeneficiaryService = ReturnType<typeof createBeneficiaryService>;
