// The payout rules other than amount thresholds (issue 10 §2, PAY-5) on both databases, each at its
// boundary: velocity per beneficiary (count, amount), per mode (amount) and per API key (count),
// each breach held for approval (never refused) with its metric; the new-beneficiary cool-down
// (released by the hold sweep when it ends, later payouts waiting with the first) and first-days
// cap; the name check at POST /v1/beneficiaries and its hold; KwikPaisa's unverified beneficiaries.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import {
  CONTROLS_OFF,
  controlsProblem,
  type CurrencyLimits,
  type PayoutControls,
} from '../../src/payouts/controls/settings.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { setPayoutControls } from '../helpers/payout-controls.ts';
import { saveNgnBeneficiary } from '../helpers/payouts.ts';

const dialects = await testDialects();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NO_LIMITS: CurrencyLimits = {
  approvalAbove: null,
  secondApprovalAbove: null,
  beneficiaryDailyAmount: null,
  modeDailyAmount: null,
  newBeneficiaryCap: null,
};
const withNgn = (limits: Partial<CurrencyLimits>, rest: Partial<PayoutControls> = {}): PayoutControls => ({
  ...CONTROLS_OFF,
  currencies: { NGN: { ...NO_LIMITS, ...limits }, INR: NO_LIMITS },
  ...rest,
});

for (const dialect of dialects) {
  describe(`payout rules and limits on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.UTC(2026, 6, 1));
    let gw: TestGateway;
    const db = () => gw.services.database.db;
    const controls = (c: PayoutControls) => setPayoutControls(db(), 'test', c);
    let account = 690_000_100;
    const newBeneficiary = async (extra: Record<string, unknown> = {}) => {
      account += 1;
      return saveNgnBeneficiary(gw, { account_number: `0${account}`, ...extra });
    };
    const pay = async (beneficiary: string, amount: number, headers: Record<string, string> = {}, currency = 'NGN') => {
      const res = await gw.api(
        'POST',
        '/v1/payouts',
        { amount, currency, beneficiary, reference: `lim-${randomUUID()}` },
        headers,
      );
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as {
        id: string;
        status: string;
        hold: null | { rules: Array<{ rule: string }>; approvals_required: number; release_at: string | null };
      };
    };
    const rules = (p: { hold: null | { rules: Array<{ rule: string }> } }) => p.hold?.rules.map((r) => r.rule) ?? [];
    const metric = async (name: string, label: string) => {
      const text = await (await fetch(`${gw.url}/metrics`)).text();
      const m = new RegExp(`^${name}\\{[^}]*"${label}"[^}]*\\} (\\d+)$`, 'm').exec(text);
      return Number(m?.[1] ?? Number.NaN);
    };

    before(async () => {
      gw = await startTestGateway(dialect, { clock });
    });
    after(() => gw?.close());

    test('per beneficiary per day: the count at the limit passes, one more is held; 24 h later it passes again', async () => {
      await controls(withNgn({}, { beneficiaryDailyCount: 2 }));
      const ben = await newBeneficiary();
      const before = await metric('paywarden_payout_velocity_breaches_total', 'velocity_beneficiary_count');
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      const third = await pay(ben.id, 100);
      assert.equal(third.status, 'on_hold');
      assert.deepEqual(rules(third), ['velocity_beneficiary_count']);
      assert.equal(third.hold?.approvals_required, 1);
      assert.equal(await metric('paywarden_payout_velocity_breaches_total', 'velocity_beneficiary_count'), before + 1);
      assert.ok((await metric('paywarden_payouts_held', 'velocity_beneficiary_count')) >= 1);
      assert.ok((await metric('paywarden_payout_flags_total', 'velocity_beneficiary_count')) >= 1);
      clock.advance(DAY);
      // The third is still on hold (it counts), the first two left the window.
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      await gw.services.worker.drain();
    });

    test('per beneficiary per day by amount, and per mode per day by amount: exactly the limit passes', async () => {
      await controls(withNgn({ beneficiaryDailyAmount: 1_000 }));
      const ben = await newBeneficiary();
      assert.equal((await pay(ben.id, 600)).status, 'pending');
      assert.equal((await pay(ben.id, 400)).status, 'pending');
      assert.deepEqual(rules(await pay(ben.id, 1)), ['velocity_beneficiary_amount']);

      clock.advance(DAY);
      await controls(withNgn({ modeDailyAmount: 5_000 }));
      const a = await newBeneficiary();
      const b = await newBeneficiary();
      assert.equal((await pay(a.id, 3_000)).status, 'pending');
      assert.equal((await pay(b.id, 2_000)).status, 'pending');
      const over = await pay(a.id, 1);
      assert.deepEqual(rules(over), ['velocity_mode_amount']);
      assert.equal(await metric('paywarden_payout_velocity_breaches_total', 'velocity_mode_amount'), 1);
      await gw.services.worker.drain();
    });

    test('per API key per hour: the limit passes, one more is held; another key is counted apart', async () => {
      clock.advance(DAY);
      await controls(withNgn({}, { apiKeyHourlyCount: 3 }));
      const ben = await newBeneficiary();
      for (let i = 0; i < 3; i += 1) assert.equal((await pay(ben.id, 10)).status, 'pending');
      const fourth = await pay(ben.id, 10);
      assert.deepEqual(rules(fourth), ['velocity_api_key_count']);
      const other = await gw.services.keys.create({ mode: 'test', name: 'other', scopes: ['payouts:write'] });
      const byOther = await pay(ben.id, 10, { authorization: `Bearer ${other.key}` });
      assert.equal(byOther.status, 'pending');
      clock.advance(HOUR);
      assert.equal((await pay(ben.id, 10)).status, 'pending');
      await gw.services.worker.drain();
    });

    test('new beneficiary: the first payout waits the cool-down, a second waits with it; the sweep releases both at its end', async () => {
      clock.advance(DAY);
      await controls(withNgn({}, { cooldownSeconds: 4 * 3_600 }));
      const ben = await newBeneficiary();
      const first = await pay(ben.id, 100);
      assert.equal(first.status, 'on_hold');
      assert.deepEqual(rules(first), ['new_beneficiary_cooldown']);
      assert.equal(first.hold?.approvals_required, 0);
      const until = new Date(clock.nowMs() + 4 * HOUR).toISOString();
      assert.equal(first.hold?.release_at, until);
      clock.advance(60_000);
      const second = await pay(ben.id, 100);
      assert.equal(second.hold?.release_at, until, 'the cool-down runs from the first payout');
      clock.advance(4 * HOUR - 60_000 - 1);
      await gw.services.payoutHolds.sweep();
      assert.equal((await gw.api('GET', `/v1/payouts/${first.id}`)).body.status, 'on_hold');
      clock.advance(1);
      const swept = await gw.services.payoutHolds.sweep();
      assert.equal(swept.released, 2);
      for (const id of [first.id, second.id]) {
        const after = (await gw.api('GET', `/v1/payouts/${id}`)).body;
        assert.equal(after.status, 'pending');
        assert.equal(after.hold.resolution, 'released');
      }
      // After the cool-down, payouts to it pass.
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      await gw.services.worker.drain();
    });

    test('new beneficiary cap: up to the cap in its first days passes, one minor unit more is held; after them it passes', async () => {
      clock.advance(DAY);
      await controls(withNgn({ newBeneficiaryCap: 10_000 }, { newBeneficiaryDays: 7 }));
      const ben = await newBeneficiary();
      assert.equal((await pay(ben.id, 6_000)).status, 'pending');
      assert.equal((await pay(ben.id, 4_000)).status, 'pending');
      assert.deepEqual(rules(await pay(ben.id, 1)), ['new_beneficiary_cap']);
      clock.advance(7 * DAY);
      assert.equal((await pay(ben.id, 5_000)).status, 'pending');
      await gw.services.worker.drain();
    });

    test('name check: a name that matches passes; one that does not is held for approval', async () => {
      clock.advance(DAY);
      await controls(withNgn({}, { nameCheck: true }));
      const plain = await newBeneficiary();
      assert.equal(plain.name_check, 'not_given');
      const [first, last] = plain.account_name.split(' ');
      account -= 1;
      const matching = await newBeneficiary({ name: `Mr ${last?.toLowerCase()} ${first}` });
      assert.equal(matching.name_check, 'match');
      account -= 1;
      const other = await newBeneficiary({ name: 'Somebody Else' });
      assert.equal(other.name_check, 'mismatch');
      assert.equal((await pay(matching.id, 100)).status, 'pending');
      assert.equal((await pay(plain.id, 100)).status, 'pending');
      const held = await pay(other.id, 100);
      assert.deepEqual(rules(held), ['name_mismatch']);
      assert.equal(await metric('paywarden_payout_flags_total', 'name_mismatch'), 1);
      await gw.services.worker.drain();
    });

    test('KwikPaisa: bank accounts saved by form, strictly, marked unverified; every payout to them held', async () => {
      await controls(withNgn({}, { nameCheck: true }));
      const body = {
        type: 'bank_account',
        currency: 'INR',
        country: 'IN',
        bank_code: 'HDFC0001234',
        account_number: '50100012345678',
        name: 'Priya Sharma',
      };
      const refused = [
        { ...body, bank_code: 'HDFC1001234' },
        { ...body, bank_code: 'hdfc0001234' },
        { ...body, account_number: '12345678' },
        { ...body, account_number: '1234567890123456789' },
        { ...body, currency: 'USD' },
        { ...body, name: undefined },
      ];
      for (const bad of refused) {
        const res = await gw.api('POST', '/v1/beneficiaries', bad);
        assert.ok(res.status === 400 || res.status === 422, `${res.status} for ${JSON.stringify(bad)}`);
        assert.match(res.body.error.code, /^parameter_(invalid|missing)$/, JSON.stringify(res.body));
      }
      const saved = await gw.api('POST', '/v1/beneficiaries', body);
      assert.equal(saved.status, 201, JSON.stringify(saved.body));
      assert.equal(saved.body.provider, 'kwikpaisa');
      assert.equal(saved.body.name_check, 'unverified');
      assert.equal(saved.body.account_name, 'Priya Sharma');
      assert.equal(saved.body.account_last4, '5678');
      const held = await pay(saved.body.id, 100_00, {}, 'INR');
      assert.equal(held.status, 'on_hold');
      assert.deepEqual(rules(held), ['name_unverified']);
      assert.equal(held.hold?.approvals_required, 1);
    });

    test('a currency with no settings row is held for one approval unless the settings allow it', async () => {
      await controls({ ...withNgn({}), currencies: { INR: NO_LIMITS }, unlistedCurrency: 'hold' });
      const ben = await newBeneficiary();
      assert.deepEqual(rules(await pay(ben.id, 100)), ['currency_unlisted']);
      await controls({ ...withNgn({}), currencies: {}, unlistedCurrency: 'allow' });
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      await gw.services.worker.drain();
    });
    test('country restriction (PAY-4): outside the allowed countries refused before anything is written; inside, or no list, passes', async () => {
      const ben = await newBeneficiary();
      const reference = `ctry-${randomUUID()}`;
      await controls(withNgn({}, { beneficiaryCountries: ['GH', 'KE'] }));
      const refused = await gw.api('POST', '/v1/payouts', {
        amount: 100,
        currency: 'NGN',
        beneficiary: ben.id,
        reference,
      });
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.deepEqual(
        [refused.body.error.code, refused.body.error.param],
        ['payout_country_not_allowed', 'beneficiary'],
      );
      assert.match(refused.body.error.message, /GH, KE.*NG/);
      const written = await db().selectFrom('payouts').select('id').where('reference', '=', reference).execute();
      assert.equal(written.length, 0, 'nothing stored for a refused payout');
      await controls(withNgn({}, { beneficiaryCountries: ['NG'] }));
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      await controls(withNgn({}, { beneficiaryCountries: null }));
      assert.equal((await pay(ben.id, 100)).status, 'pending');
      assert.notEqual(controlsProblem(withNgn({}, { beneficiaryCountries: ['ng'] })), null, 'not a country code');
      assert.notEqual(controlsProblem(withNgn({}, { beneficiaryCountries: ['NG', 'NG'] })), null, 'listed twice');
    });
  });
}
