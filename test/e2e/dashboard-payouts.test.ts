// The dashboard's payout pages and actions over HTTP, on both databases: the list's filters and
// cursor pages, the detail page (beneficiary masked, attempts, provider calls, events, audit), and
// each operator action (cancel, finalize the OTP, resolve a review, a new attempt) for a role that
// may (finance), roles that may not (developer, viewer: refused, audited as denied, nothing
// changed), a password older than 5 minutes (asked again, nothing changed) and a payout in a state
// that does not allow it (the service's refusal, shown on the error page). The payouts reach their
// states through the simulators' faults and the workers (test/helpers/payout-states.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import { SIMULATED_OTP } from '../../src/simulators/paystack/transfer-routes.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { flutterwavePayoutKit, paystackPayoutKit } from '../helpers/payout-kits.ts';
import { payoutsIn, type WantedStatus } from '../helpers/payout-states.ts';
import { setPayoutControls } from '../helpers/payout-controls.ts';
import { CONTROLS_OFF } from '../../src/payouts/controls/settings.ts';

const STALE_MS = 5 * 60_000 + 1_000;

for (const dialect of await testDialects()) {
  describe(`dashboard payouts on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.UTC(2026, 5, 1, 9));
    let gw: TestGateway;
    let finance: TestOperator;
    let developer: TestOperator;
    let viewer: TestOperator;
    const ids = {} as Record<'pending' | 'succeeded' | 'failed' | 'action' | 'review' | 'review2', string>;
    let paystackBeneficiary = '';

    before(async () => {
      gw = await startTestGateway(dialect, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
      const flw = (await gw.api('POST', '/v1/beneficiaries', flutterwavePayoutKit.beneficiary)).body.id as string;
      paystackBeneficiary = (await gw.api('POST', '/v1/beneficiaries', paystackPayoutKit.beneficiary)).body.id;
      const plan: Array<[keyof typeof ids, string, string, WantedStatus]> = [
        ['review', 'flutterwave', flw, 'requires_review'],
        ['review2', 'flutterwave', flw, 'requires_review'],
        ['succeeded', 'flutterwave', flw, 'succeeded'],
        ['failed', 'flutterwave', flw, 'failed'],
        ['action', 'paystack', paystackBeneficiary, 'requires_action'],
        ['pending', 'flutterwave', flw, 'pending'],
      ];
      const made = await payoutsIn(
        gw,
        clock,
        plan.map(([name, provider, beneficiary, status]) => ({
          provider,
          beneficiary,
          currency: 'NGN',
          status,
          reference: `dash-${name}`,
        })),
      );
      plan.forEach(([name], i) => {
        ids[name] = made[i]!;
      });
      // Signed in after the clock moved days on for the reviews, so the sessions are fresh.
      await enrolOperator(gw, { role: 'owner' }); // the first operator is always an owner
      finance = await enrolOperator(gw, { role: 'finance' });
      developer = await enrolOperator(gw, { role: 'developer' });
      viewer = await enrolOperator(gw, { role: 'viewer' });
    });
    after(() => gw?.close());

    const db = () => gw.services.database.db;
    const statusOf = async (id: string) => (await gw.services.payouts.get('test', id))?.status;
    const auditOf = (id: string, action: string) =>
      db()
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', id)
        .where('action', '=', action)
        .orderBy('position')
        .execute();
    const denied = (operatorId: string, route: string) =>
      db()
        .selectFrom('audit_log')
        .select('action')
        .where('actor_id', '=', operatorId)
        .where('result', '=', 'denied')
        .where('object_id', '=', route)
        .execute();
    /** Fresh for the next sensitive action: a password entered now. */
    const reauth = async (op: TestOperator, returnTo: string) => {
      const page = await op.client.post('/dashboard/reauth', { password: op.password, return_to: returnTo });
      assert.equal(page.status, 303);
    };

    test('the list: every payout newest first, filtered by status, provider, reference and day; ids open the payout', async () => {
      const all = await viewer.client.get('/dashboard/payouts');
      assert.equal(all.status, 200);
      const order = [...all.html.matchAll(/href="\/dashboard\/payouts\/(po_[0-9A-Za-z]{22})"/g)].map((m) => m[1]);
      const newestFirst = await db()
        .selectFrom('payouts')
        .select('id')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      assert.deepEqual(
        order,
        newestFirst.map((r) => r.id),
      );
      assert.equal(order.length, 6);
      assert.deepEqual(new Set(order.slice(-2)), new Set([ids.review, ids.review2]), 'the oldest: created days before');
      assert.match(all.html, /href="\/dashboard\/payouts" class="active">Payouts</, 'in the navigation');
      // Every status of the state machine is a filter choice.
      for (const status of ['pending', 'unknown', 'requires_action', 'requires_review', 'cancelled'])
        assert.match(all.html, new RegExp(`<option value="${status}"`));

      const review = await viewer.client.get('/dashboard/payouts?status=requires_review');
      assert.ok(review.html.includes(ids.review) && review.html.includes(ids.review2));
      assert.ok(!review.html.includes(ids.pending));
      const paystack = await viewer.client.get('/dashboard/payouts?provider=paystack&status=');
      assert.ok(paystack.html.includes(ids.action) && !paystack.html.includes(ids.failed));
      const byReference = await viewer.client.get('/dashboard/payouts?q=dash-failed');
      assert.deepEqual(
        [...byReference.html.matchAll(/<a href="\/dashboard\/payouts\/(po_\w+)"/g)].map((m) => m[1]),
        [ids.failed],
      );
      const byId = await viewer.client.get(`/dashboard/payouts?q=${ids.action}`);
      assert.equal(byId.status, 303);
      assert.equal(byId.location, `/dashboard/payouts/${ids.action}`);

      // The reviews were created days before the others (the clock moved on for their schedule).
      const reviewDay = new Date((await gw.services.payouts.get('test', ids.review))!.created_at)
        .toISOString()
        .slice(0, 10);
      const thatDay = await viewer.client.get(`/dashboard/payouts?from=${reviewDay}&to=${reviewDay}`);
      assert.ok(thatDay.html.includes(ids.review) && !thatDay.html.includes(ids.pending));
      const pendingDay = new Date((await gw.services.payouts.get('test', ids.pending))!.created_at)
        .toISOString()
        .slice(0, 10);
      assert.notEqual(pendingDay, reviewDay);
      const later = await viewer.client.get(`/dashboard/payouts?from=${pendingDay}`);
      assert.ok(!later.html.includes(ids.review) && later.html.includes(ids.pending));

      for (const bad of ['status=paid', 'provider=paypal', 'from=2026-02-30', 'from=yesterday', 'q=%3Cb%3E', 'x=1'])
        assert.equal((await viewer.client.get(`/dashboard/payouts?${bad}`)).status, 400, bad);
      const unknownCursor = await viewer.client.get(`/dashboard/payouts?starting_after=po_${'0'.repeat(22)}`);
      assert.equal(unknownCursor.status, 422);
      assert.match(unknownCursor.html, /starting_after names no payout/);
    });

    test('cursor pages: 50 a page, the next link continues where the page ended, filters kept', async () => {
      // Enough payouts for a second page, never sent (no job runs here).
      for (let i = 0; i < 50; i += 1)
        await gw.api('POST', '/v1/payouts', {
          amount: 1_000 + i,
          currency: 'NGN',
          beneficiary: paystackBeneficiary,
          reference: `page-${i}`,
        });
      const first = await viewer.client.get('/dashboard/payouts?provider=paystack');
      const firstIds = [...first.html.matchAll(/<a href="\/dashboard\/payouts\/(po_\w+)"/g)].map((m) => m[1]);
      assert.equal(firstIds.length, 50);
      const href = /<a href="(\/dashboard\/payouts\?[^"]+)" id="next-page"/.exec(first.html)?.[1];
      assert.ok(href !== undefined, 'a link to the next page');
      assert.match(href, /provider=paystack/);
      const second = await viewer.client.get(href.replaceAll('&amp;', '&'));
      const secondIds = [...second.html.matchAll(/<a href="\/dashboard\/payouts\/(po_\w+)"/g)].map((m) => m[1]);
      assert.deepEqual(secondIds, [ids.action], 'the oldest Paystack payout, after the 50 newer ones');
      assert.doesNotMatch(second.html, /id="next-page"/);
      // Out of the way of the tests below: cancelled (never sent), so no job sends them.
      const ctx = { mode: 'test' as const, apiKeyId: 'key_test', requestId: 'req_test', ip: '127.0.0.1' };
      for (const id of [...firstIds, ...secondIds].filter((id) => id !== ids.action))
        await gw.services.payouts.cancel(ctx, id!);
    });

    test('the detail page: status, the beneficiary masked, attempts with what was sent, provider calls, events and audit; viewing is audited', async () => {
      const page = await viewer.client.get(`/dashboard/payouts/${ids.failed}`);
      assert.equal(page.status, 200);
      assert.match(page.html, /id="payout-status">failed/);
      assert.match(page.html, /id="beneficiary-account">bank_account ending 0031</);
      // The holder's name is sealed at rest: the page shows it opened, never the sealed form.
      assert.match(page.html, /<tr><th>Name<\/th><td>[^<]+<\/td>/);
      assert.ok(!page.html.includes('s1.dk_'), 'no sealed value on the page');
      assert.ok(!page.html.includes('0690000031'), 'never the whole account number');
      assert.match(page.html, /<table id="attempts">.*<code>[^<]+<\/code>/s);
      assert.match(page.html, /<table id="checks">.*create/s, 'the create call and its answer');
      assert.match(page.html, /payout\.failed/, 'the merchant event');
      assert.match(page.html, /<table id="object-audit">.*payout\.create/s);
      assert.doesNotMatch(page.html, /id="payout-actions"/, 'a viewer is offered no action');
      assert.equal((await auditOf(ids.failed, 'payout.viewed')).length, 1);
      assert.equal((await viewer.client.get(`/dashboard/payouts/po_${'0'.repeat(22)}`)).status, 404);
      assert.equal((await viewer.client.get('/dashboard/payouts/pay_123')).status, 400);
      const forFinance = await finance.client.get(`/dashboard/payouts/${ids.failed}`);
      assert.match(forFinance.html, /id="new-attempt"/);
      assert.doesNotMatch(forFinance.html, /id="cancel-payout"|id="resolve-payout"|id="finalize-payout"/);
      assert.match((await finance.client.get(`/dashboard/payouts/${ids.pending}`)).html, /id="cancel-payout"/);
      const review = (await finance.client.get(`/dashboard/payouts/${ids.review}`)).html;
      const outcomes = [...review.matchAll(/<option value="(\w+)">/g)].map((m) => m[1]);
      assert.deepEqual(outcomes, ['succeeded', 'failed', 'reversed'], 'the outcomes the state machine allows');
      assert.match((await finance.client.get(`/dashboard/payouts/${ids.action}`)).html, /id="finalize-payout"/);
    });

    test('beneficiaries: holder, bank, last four digits and the name check, never the account number; opening the list is audited', async () => {
      const page = await viewer.client.get('/dashboard/beneficiaries');
      assert.equal(page.status, 200);
      assert.match(page.html, /href="\/dashboard\/beneficiaries"/, 'in the nav');
      const row = /<tbody>(.*?)<\/tbody>/s.exec(page.html)?.[1] ?? '';
      const own = await gw.services.database.db.selectFrom('beneficiaries').select(['id']).execute();
      for (const b of own) assert.ok(row.includes(b.id), `${b.id} listed`);
      assert.match(row, /…0031/);
      assert.ok(!page.html.includes('0690000031'), 'never the whole account number');
      assert.ok(!/s1\.dk_|p1\.|v1\./.test(row), 'no sealed value on the page');
      const holder = (await gw.services.dashboardQueries.beneficiary('test', own[0]!.id))?.account_name ?? '';
      assert.ok(holder.length > 0 && row.includes(holder), 'the holder name, opened');
      assert.equal((await auditOf('list', 'beneficiary.viewed')).length, 1);
      assert.equal(
        (await viewer.client.get(`/dashboard/beneficiaries?starting_after=ben_${'0'.repeat(22)}`)).status,
        422,
      );
      assert.equal((await viewer.client.get('/dashboard/beneficiaries?starting_after=po_1')).status, 400);
    });

    test('beneficiaries: a full page continues from its last row to the older ones, each beneficiary on one page, newest first', async () => {
      const existing = await db().selectFrom('beneficiaries').select('id').where('mode', '=', 'test').execute();
      // One more than a page (50), under distinct accounts the simulator resolves.
      for (let i = existing.length; i <= 50; i += 1) {
        const res = await gw.api('POST', '/v1/beneficiaries', {
          ...flutterwavePayoutKit.beneficiary,
          account_number: `0691${String(i).padStart(5, '0')}1`,
        });
        assert.equal(res.status, 201, JSON.stringify(res.body));
      }
      const all = await db()
        .selectFrom('beneficiaries')
        .select('id')
        .where('mode', '=', 'test')
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      assert.equal(all.length, 51);
      const listed = (page: string) => [
        ...new Set(
          [...(/<tbody>(.*?)<\/tbody>/s.exec(page)?.[1] ?? '').matchAll(/ben_[0-9A-Za-z]{22}/g)].map((m) => m[0]),
        ),
      ];
      const viewsBefore = (await auditOf('list', 'beneficiary.viewed')).length;
      const first = await viewer.client.get('/dashboard/beneficiaries');
      const firstIds = listed(first.html);
      assert.equal(firstIds.length, 50);
      const older = /href="\/dashboard\/beneficiaries\?starting_after=(ben_[0-9A-Za-z]{22})"/.exec(first.html)?.[1];
      assert.equal(older, firstIds.at(-1), 'the link continues from the last row shown');
      const second = await viewer.client.get(`/dashboard/beneficiaries?starting_after=${older}`);
      assert.equal(second.status, 200);
      const secondIds = listed(second.html);
      assert.equal(secondIds.length, 1);
      assert.deepEqual(
        [...firstIds, ...secondIds],
        all.map((b) => b.id),
        'every beneficiary once, newest first across the pages',
      );
      assert.doesNotMatch(second.html, /Older beneficiaries/, 'the last page links no further');
      assert.equal(
        (await auditOf('list', 'beneficiary.viewed')).length,
        viewsBefore + 2,
        'each page opened is audited',
      );
    });

    test('the overview links to the payouts waiting for a person', async () => {
      const overview = await viewer.client.get('/dashboard');
      assert.match(overview.html, /href="\/dashboard\/payouts\?status=requires_review">2 payout\(s\) need review/);
      assert.match(overview.html, /href="\/dashboard\/payouts\?status=requires_action">1 payout\(s\) wait/);
      assert.match(overview.html, /href="\/dashboard\/payouts" id="all-payouts"/);
    });

    test('cancel: refused for developer and viewer (audited), needs a reason, done for finance with the reason audited; twice is a state conflict', async () => {
      const path = `/dashboard/payouts/${ids.pending}/cancel`;
      for (const op of [developer, viewer]) {
        assert.equal((await op.client.post(path, { reason: 'not mine to cancel' })).status, 403);
        assert.deepEqual(await denied(op.id, '/dashboard/payouts/:id/cancel'), [
          { action: 'dashboard.manage_payouts' },
        ]);
      }
      assert.equal((await finance.client.post(path, {})).status, 400, 'a reason is required');
      assert.equal((await finance.client.post(path, { reason: '  ' })).status, 400, 'and must say something');
      assert.equal(await statusOf(ids.pending), 'pending');
      const done = await finance.client.post(path, { reason: 'merchant asked to stop it' });
      assert.equal(done.status, 303);
      assert.equal(done.location, `/dashboard/payouts/${ids.pending}`);
      assert.equal(await statusOf(ids.pending), 'cancelled');
      const [audit] = await auditOf(ids.pending, 'payout.transition.pending.cancelled');
      assert.equal(audit?.actor_id, finance.id);
      assert.equal(JSON.parse(audit!.details_json).note, 'merchant asked to stop it');
      const page = await finance.client.get(`/dashboard/payouts/${ids.pending}`);
      assert.match(page.html, /merchant asked to stop it/, 'the reason is on the timeline');
      const again = await finance.client.post(path, { reason: 'once more' });
      assert.equal(again.status, 409);
      assert.match(again.html, /never sent to the provider can be cancelled/);
      assert.match(again.html, /id="request-id">req_/);
      const sent = await finance.client.post(`/dashboard/payouts/${ids.succeeded}/cancel`, { reason: 'too late' });
      assert.equal(sent.status, 409, 'a payout that was sent cannot be cancelled');
      assert.equal(await statusOf(ids.succeeded), 'succeeded');
    });

    test('resolve a review: refused roles, a stale password asks again, finance decides with a reason; a second decision is refused', async () => {
      const path = `/dashboard/payouts/${ids.review}/resolve`;
      const form = { outcome: 'failed', reason: 'provider support confirmed it never left' };
      assert.equal((await developer.client.post(path, form)).status, 403);
      assert.equal((await viewer.client.post(path, form)).status, 403);
      assert.equal((await finance.client.post(path, { ...form, outcome: 'cancelled' })).status, 400, 'not an outcome');
      clock.advance(STALE_MS);
      const stale = await finance.client.post(path, form);
      assert.equal(stale.status, 403);
      assert.match(stale.html, /needs your password again/);
      assert.match(stale.html, new RegExp(`name="return_to" value="/dashboard/payouts/${ids.review}"`));
      assert.equal(await statusOf(ids.review), 'requires_review', 'nothing changed');
      await reauth(finance, `/dashboard/payouts/${ids.review}`);
      const done = await finance.client.post(path, form);
      assert.equal(done.status, 303);
      assert.equal(await statusOf(ids.review), 'failed');
      const [audit] = await auditOf(ids.review, 'payout.transition.requires_review.failed');
      assert.equal(audit?.actor_id, finance.id);
      assert.equal(JSON.parse(audit!.details_json).note, form.reason);
      const again = await finance.client.post(path, { ...form, outcome: 'succeeded' });
      assert.equal(again.status, 409);
      assert.equal(await statusOf(ids.review), 'failed');
    });

    test('finalize the OTP: refused roles, stale password, a wrong code is the provider refusal, the right one sends it on; then no longer waiting', async () => {
      const path = `/dashboard/payouts/${ids.action}/finalize`;
      assert.equal((await developer.client.post(path, { otp: SIMULATED_OTP, reason: 'code from phone' })).status, 403);
      clock.advance(STALE_MS);
      assert.equal((await finance.client.post(path, { otp: SIMULATED_OTP, reason: 'code from phone' })).status, 403);
      assert.equal(await statusOf(ids.action), 'requires_action');
      await reauth(finance, `/dashboard/payouts/${ids.action}`);
      assert.equal((await finance.client.post(path, { otp: '12ab', reason: 'typo' })).status, 400, 'digits only');
      const wrong = await finance.client.post(path, { otp: '000000', reason: 'code from phone' });
      assert.equal(wrong.status, 422);
      assert.match(wrong.html, /refused this code/);
      assert.equal(await statusOf(ids.action), 'requires_action');
      const right = await finance.client.post(path, { otp: SIMULATED_OTP, reason: 'code from phone' });
      assert.equal(right.status, 303);
      await gw.services.worker.drain();
      assert.notEqual(await statusOf(ids.action), 'requires_action');
      const finalized = await auditOf(ids.action, 'payout.finalize');
      assert.deepEqual(
        finalized.map((a) => [a.result, JSON.parse(a.details_json).note]),
        [
          ['failure', 'code from phone'],
          ['success', 'code from phone'],
        ],
      );
      assert.ok(!finalized.some((a) => a.details_json.includes(SIMULATED_OTP)), 'the code is never stored');
      assert.equal((await finance.client.post(path, { otp: SIMULATED_OTP, reason: 'again' })).status, 409);
    });

    test('a new attempt after a definite failure: refused roles, stale password, then a new reference; not while it is pending', async () => {
      const path = `/dashboard/payouts/${ids.failed}/new-attempt`;
      assert.equal((await developer.client.post(path, { reason: 'balance topped up' })).status, 403);
      assert.equal((await viewer.client.post(path, { reason: 'balance topped up' })).status, 403);
      clock.advance(STALE_MS);
      assert.equal((await finance.client.post(path, { reason: 'balance topped up' })).status, 403);
      assert.equal(await statusOf(ids.failed), 'failed');
      await reauth(finance, `/dashboard/payouts/${ids.failed}`);
      const done = await finance.client.post(path, { reason: 'balance topped up' });
      assert.equal(done.status, 303);
      assert.equal(await statusOf(ids.failed), 'pending');
      const attempts = await db()
        .selectFrom('payout_attempts')
        .select(['attempt_no', 'reference'])
        .where('payout_id', '=', ids.failed)
        .orderBy('attempt_no')
        .execute();
      assert.equal(attempts.length, 2);
      assert.notEqual(attempts[0]!.reference, attempts[1]!.reference, 'a new reference');
      const [audit] = await auditOf(ids.failed, 'payout.transition.failed.pending');
      assert.equal(JSON.parse(audit!.details_json).note, 'balance topped up');
      assert.equal((await finance.client.post(path, { reason: 'twice' })).status, 409, 'only after a failure');
      const page = await finance.client.get(`/dashboard/payouts/${ids.failed}`);
      assert.equal([...page.html.matchAll(/<tr><td>\d<\/td><td><code>/g)].length, 2, 'both attempts shown');
    });

    test('a status these pages do not name (a payout held by the controls) is shown and filtered like any other, and cancelled with its reason', async () => {
      await setPayoutControls(db(), 'test', { ...CONTROLS_OFF, unlistedCurrency: 'hold' });
      const held = await gw.api('POST', '/v1/payouts', {
        amount: 7_700,
        currency: 'NGN',
        beneficiary: paystackBeneficiary,
        reference: 'dash-held',
      });
      await setPayoutControls(db(), 'test');
      assert.equal(held.body.status, 'on_hold');
      const list = await viewer.client.get('/dashboard/payouts?status=on_hold');
      assert.equal(list.status, 200);
      assert.match(list.html, new RegExp(`${held.body.id}.*class="status-on_hold">on_hold<`, 's'));
      const page = await finance.client.get(`/dashboard/payouts/${held.body.id}`);
      assert.match(page.html, /id="payout-status">on_hold/);
      assert.match(page.html, /id="cancel-payout"/, 'never sent, so it can be cancelled');
      assert.match(
        page.html,
        /id="payout-hold">.*data-rule="currency_unlisted".*action="\/dashboard\/payouts\/po_\w+\/approve"/s,
        'why it is held, and the approval forms',
      );
      assert.doesNotMatch((await viewer.client.get(`/dashboard/payouts/${held.body.id}`)).html, /\/approve"/);
      const cancelled = await finance.client.post(`/dashboard/payouts/${held.body.id}/cancel`, {
        reason: 'duplicate order',
      });
      assert.equal(cancelled.status, 303);
      assert.equal(await statusOf(held.body.id), 'cancelled');
      const [audit] = await auditOf(held.body.id, 'payout.transition.on_hold.cancelled');
      assert.equal(JSON.parse(audit!.details_json).note, 'duplicate order');
    });

    test('actions need the CSRF token and our origin', async () => {
      const path = `/dashboard/payouts/${ids.review2}/resolve`;
      const good = finance.client.csrfToken;
      const forged = await finance.client.request('POST', path, {
        csrf_token: 'A'.repeat(43),
        outcome: 'succeeded',
        reason: 'forged',
      });
      assert.equal(forged.status, 403);
      finance.client.origin = 'https://evil.example';
      assert.equal((await finance.client.post(path, { outcome: 'succeeded', reason: 'cross-site' })).status, 403);
      finance.client.origin = gw.url;
      assert.equal(finance.client.csrfToken, good);
      assert.equal(await statusOf(ids.review2), 'requires_review');
    });
  });
}
