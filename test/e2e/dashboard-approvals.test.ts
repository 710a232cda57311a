// The approval queue and the payout rules page (issue 10 §4, §2 settings) over HTTP, on both
// databases: what waits, why, since when and who made it; approve and reject from the list behind
// approve_payouts and a fresh password, with a reason, audited; the maker's own approval refused;
// the overview's count; the rules edited behind change_settings and a fresh password, audited
// with before and after, bad values and a stale form refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { testDialects } from '../helpers/databases.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { THRESHOLDS } from '../helpers/payout-controls.ts';
import { saveNgnBeneficiary } from '../helpers/payouts.ts';

const dialects = await testDialects();
const STALE_MS = 6 * 60_000;

for (const dialect of dialects) {
  describe(`dashboard approvals on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let owner: TestOperator;
    let alice: TestOperator;
    let viewer: TestOperator;
    let beneficiary: string;
    const db = () => gw.services.database.db;
    const heldPayout = async (amount = 20_000) => {
      const res = await gw.api('POST', '/v1/payouts', {
        amount,
        currency: 'NGN',
        beneficiary,
        reference: `dash-${randomUUID()}`,
      });
      assert.equal(res.body.status, 'on_hold');
      return res.body.id as string;
    };
    const fresh = (op: TestOperator, returnTo = '/dashboard/approvals') =>
      op.client.post('/dashboard/reauth', { password: op.password, return_to: returnTo });

    before(async () => {
      gw = await startTestGateway(dialect, { clock, payoutControls: THRESHOLDS });
      owner = await enrolOperator(gw);
      alice = await enrolOperator(gw, { role: 'finance' });
      viewer = await enrolOperator(gw, { role: 'viewer' });
      beneficiary = (await saveNgnBeneficiary(gw)).id;
    });
    after(() => gw?.close());

    test('the queue shows what waits, why, since when and who made it; the overview counts it', async () => {
      const id = await heldPayout();
      const page = await alice.client.get('/dashboard/approvals');
      assert.equal(page.status, 200);
      const row = new RegExp(`<tr id="held-${id}">.*?</tr>`, 's').exec(page.html)?.[0] ?? '';
      assert.match(row, /data-rule="amount"/);
      assert.match(row, /above: NGN 100\.00/);
      assert.match(row, /NGN 200\.00/);
      assert.match(row, /API key test/);
      assert.match(row, /0 of 1/);
      assert.match(row, /data-action="approve"/);
      const overview = await alice.client.get('/dashboard');
      assert.match(overview.html, /id="payouts-waiting">\d+ payout\(s\) wait for approval/);
      // A viewer sees the queue but gets no forms, and a post is refused by role.
      const seen = await viewer.client.get('/dashboard/approvals');
      assert.match(seen.html, new RegExp(`held-${id}`));
      assert.doesNotMatch(seen.html, /data-action="approve"/);
      const refused = await viewer.client.post(`/dashboard/payouts/${id}/approve`, { reason: 'let me' });
      assert.equal(refused.status, 403);
      assert.equal((await gw.api('GET', `/v1/payouts/${id}`)).body.status, 'on_hold');
    });

    test('approve asks for a fresh password, then releases with the reason audited', async () => {
      const id = await heldPayout();
      clock.advance(STALE_MS);
      const stale = await alice.client.post(`/dashboard/payouts/${id}/approve`, { reason: 'invoice 7 ok' });
      assert.equal(stale.status, 403);
      assert.match(stale.html, /Confirm your password/);
      assert.equal((await gw.api('GET', `/v1/payouts/${id}`)).body.status, 'on_hold');
      await fresh(alice);
      const done = await alice.client.post(`/dashboard/payouts/${id}/approve`, { reason: 'invoice 7 ok' });
      assert.equal(done.status, 303);
      assert.equal(done.location, '/dashboard/approvals?done=released');
      assert.equal((await gw.api('GET', `/v1/payouts/${id}`)).body.status, 'pending');
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', id)
        .where('action', '=', 'payout.approve')
        .executeTakeFirstOrThrow();
      assert.equal(audit.actor_id, alice.id);
      assert.equal(JSON.parse(audit.details_json).reason, 'invoice 7 ok');
      const again = await alice.client.post(`/dashboard/payouts/${id}/approve`, { reason: 'twice' });
      assert.equal(again.status, 409);
      await gw.services.worker.drain();
    });

    test('reject from the list ends the payout; a reason is required', async () => {
      const id = await heldPayout();
      await fresh(alice);
      const noReason = await alice.client.post(`/dashboard/payouts/${id}/reject`, { reason: '' });
      assert.equal(noReason.status, 400);
      const done = await alice.client.post(`/dashboard/payouts/${id}/reject`, { reason: 'not our supplier' });
      assert.equal(done.location, '/dashboard/approvals?done=rejected');
      assert.equal((await gw.api('GET', `/v1/payouts/${id}`)).body.status, 'rejected');
      const list = await alice.client.get('/dashboard/approvals?done=rejected');
      assert.doesNotMatch(list.html, new RegExp(`held-${id}`));
      assert.match(list.html, /Rejected: the payout ends without being sent/);
    });

    test("the maker's own approve button is refused", async () => {
      const made = await gw.services.payouts.create(
        { mode: 'test', apiKeyId: '', operatorId: alice.id, requestId: 'req_dash', ip: '127.0.0.1' },
        { amount: 20_000, currency: 'NGN', beneficiary, reference: `dash-${randomUUID()}` },
      );
      assert.equal(made.status, 'on_hold');
      const page = await alice.client.get('/dashboard/approvals');
      assert.match(
        new RegExp(`<tr id="held-${made.id}">.*?</tr>`, 's').exec(page.html)?.[0] ?? '',
        new RegExp(alice.email),
      );
      await fresh(alice);
      const refused = await alice.client.post(`/dashboard/payouts/${made.id}/approve`, { reason: 'mine' });
      assert.equal(refused.status, 403);
      assert.match(refused.html, /someone else must decide it/);
      assert.equal((await gw.api('GET', `/v1/payouts/${made.id}`)).body.status, 'on_hold');
    });

    test('payout rules: change_settings and a fresh password; saved exactly, audited; bad values and stale forms refused', async () => {
      assert.equal((await alice.client.get('/dashboard/payout-rules')).status, 403);
      const form = await owner.client.get('/dashboard/payout-rules');
      assert.equal(form.status, 200);
      assert.match(form.html, /name="cur_NGN_approvalAbove" value="100\.00"/);
      const version = /name="version" value="(\d+)"/.exec(form.html)?.[1] ?? '';
      const values = {
        version,
        cur_NGN_approvalAbove: '250.50',
        cur_NGN_secondApprovalAbove: '1,000',
        cur_NGN_beneficiaryDailyAmount: '',
        cur_NGN_modeDailyAmount: '',
        cur_NGN_newBeneficiaryCap: '',
        new_currency: 'UGX',
        new_approvalAbove: '500000',
        unlisted_currency: 'hold',
        beneficiary_daily_count: '5',
        api_key_hourly_count: '',
        cooldown_minutes: '240',
        new_beneficiary_days: '7',
        expiry_hours: '168',
        beneficiary_countries: 'ng, gh,NG',
        name_check: '1',
      };
      clock.advance(STALE_MS);
      const stale = await owner.client.post('/dashboard/payout-rules', values);
      assert.equal(stale.status, 403);
      await fresh(owner, '/dashboard/payout-rules');
      const tooPrecise = await owner.client.post('/dashboard/payout-rules', {
        ...values,
        cur_NGN_approvalAbove: '1.234',
      });
      assert.equal(tooPrecise.status, 400);
      assert.match(tooPrecise.html, /more decimals than NGN has/);
      const badCountry = await owner.client.post('/dashboard/payout-rules', {
        ...values,
        beneficiary_countries: 'NGA',
      });
      assert.equal(badCountry.status, 400);
      assert.match(badCountry.html, /NGA is not a two-letter ISO country code/);
      const saved = await owner.client.post('/dashboard/payout-rules', values);
      assert.equal(saved.status, 303, saved.html.slice(0, 500));
      const { controls } = await gw.services.payoutControls.get('test');
      assert.equal(controls.currencies.NGN?.approvalAbove, 25_050);
      assert.equal(controls.currencies.NGN?.secondApprovalAbove, 100_000);
      assert.equal(controls.currencies.UGX?.approvalAbove, 500_000);
      assert.equal(controls.beneficiaryDailyCount, 5);
      assert.equal(controls.apiKeyHourlyCount, null);
      assert.equal(controls.cooldownSeconds, 240 * 60);
      assert.deepEqual(controls.beneficiaryCountries, ['NG', 'GH'], 'upper-cased, each once');
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'payout_controls.update')
        .where('actor_id', '=', owner.id)
        .executeTakeFirstOrThrow();
      const details = JSON.parse(audit.details_json);
      assert.equal(details.before.currencies.NGN.approvalAbove, 10_000);
      assert.equal(details.after.currencies.NGN.approvalAbove, 25_050);
      // The same form again is stale now.
      const again = await owner.client.post('/dashboard/payout-rules', values);
      assert.equal(again.status, 409);
      assert.match(again.html, /changed meanwhile/);
      // The new threshold holds from now on: exactly 250.50 asks for no approval, a kobo more does.
      const rulesOf = async (amount: number) =>
        (
          await gw.api('POST', '/v1/payouts', {
            amount,
            currency: 'NGN',
            beneficiary,
            reference: `dash-${randomUUID()}`,
          })
        ).body.hold.rules.map((r: { rule: string }) => r.rule);
      assert.deepEqual(await rulesOf(25_050), ['new_beneficiary_cooldown']);
      assert.deepEqual(await rulesOf(25_051), ['amount', 'new_beneficiary_cooldown']);
    });
  });
}
