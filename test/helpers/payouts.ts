// Small payout steps the end-to-end tests share: a Flutterwave-resolved NGN beneficiary, and
// running the workers until a payout is final (the simulator settles it).
import assert from 'node:assert/strict';
import type { TestGateway } from './gateway.ts';

/** A Nigerian bank account the simulators resolve. */
export const NGN_BENEFICIARY = {
  type: 'bank_account',
  currency: 'NGN',
  country: 'NG',
  bank_code: '044',
  account_number: '0690000031',
} as const;

/** POST /v1/beneficiaries for an NGN account the Flutterwave simulator resolves. */
export async function saveNgnBeneficiary(
  gw: TestGateway,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; account_name: string; name_check: string }> {
  const res = await gw.api('POST', '/v1/beneficiaries', { ...NGN_BENEFICIARY, ...extra });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body;
}

/** Runs the workers until the payout succeeded or failed (or gives up); its last status. */
export async function settlePayout(gw: TestGateway, id: string): Promise<string> {
  const status = async () => (await gw.api('GET', `/v1/payouts/${id}`)).body.status as string;
  for (let i = 0; i < 100; i += 1) {
    await gw.services.worker.drain();
    const now = await status();
    if (now === 'succeeded' || now === 'failed') return now;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return status();
}
