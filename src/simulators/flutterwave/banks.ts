// Bank lists and account resolution as the simulator answers them (§1.6, §1.7). Names are
// deterministic so tests can assert them; an account number ending in 0000 does not resolve.
import { accountResolves, simulatedAccountName } from '../shared/accounts.ts';

export const SIMULATED_BANKS: Readonly<Record<string, ReadonlyArray<{ id: number; code: string; name: string }>>> = {
  NG: [
    { id: 132, code: '044', name: 'Access Bank' },
    { id: 137, code: '011', name: 'First Bank of Nigeria' },
    { id: 139, code: '058', name: 'GTBank Plc' },
    { id: 140, code: '033', name: 'United Bank for Africa' },
    { id: 141, code: '057', name: 'Zenith Bank' },
  ],
  GH: [
    { id: 200, code: 'GH280100', name: 'Access Bank Ghana' },
    { id: 201, code: 'GH230100', name: 'GCB Bank' },
  ],
  KE: [
    { id: 300, code: 'MPS', name: 'M-Pesa' },
    { id: 301, code: '01', name: 'Kenya Commercial Bank' },
  ],
  UG: [{ id: 400, code: 'MPS', name: 'MTN Mobile Money' }],
  ZA: [{ id: 500, code: '632005', name: 'ABSA Bank' }],
  TZ: [{ id: 600, code: 'MPS', name: 'M-Pesa Tanzania' }],
};

export type ResolveAnswer = { ok: true; accountNumber: string; accountName: string } | { ok: false; message: string };

export function resolveAccount(body: Record<string, unknown>): ResolveAnswer {
  const accountNumber = typeof body.account_number === 'string' ? body.account_number : '';
  const bank = typeof body.account_bank === 'string' ? body.account_bank : '';
  if (bank.length < 2 || bank.length > 11 || !/^\+?\d{6,15}$/.test(accountNumber))
    return { ok: false, message: 'account_number and account_bank are required' };
  const country = typeof body.country === 'string' ? body.country.toUpperCase() : 'NG';
  if (!(SIMULATED_BANKS[country] ?? []).some((b) => b.code === bank))
    return { ok: false, message: 'Unknown bank code' };
  if (!accountResolves(accountNumber))
    return { ok: false, message: 'Sorry, that account number is invalid, please check and try again' };
  // The M-Pesa variant answers the number without its plus sign (§1.7).
  return {
    ok: true,
    accountNumber: accountNumber.replace(/^\+/, ''),
    accountName: simulatedAccountName(accountNumber),
  };
}
