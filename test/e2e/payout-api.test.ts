// The payout merchant API end to end on both databases (issue 9 §1, §5): beneficiary resolved
// and stored sealed, payout created, settled at the Flutterwave simulator, the merchant event
// verified with the official `standardwebhooks` package; the idempotency and reference rules;
// cancel only before sending; refresh; balances; bad input refused with its code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { manualClock } from '../../src/clock.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { listPayoutsText, showPayoutText } from '../../src/cli/payouts.ts';

const dialects = await testDialects();

for (const dialect of dialects) {
  describe(`payout API on ${dialect.name}`, { skip: dialect.skip }, () => {
    // Now: the merchant verifies the webhook timestamps against its own clock.
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let secret: string;
    let beneficiary: string;
    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      receiver = await startReceiver();
      const endpoint = await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payout.*'] });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      secret = endpoint.body.secret;
      const created = await gw.api('POST', '/v1/beneficiaries', {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
        bank_code: '044',
        account_number: '0690000031',
        metadata: { vendor: 'v-1' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      beneficiary = created.body.id;
    });
    after(async () => {
      await gw?.close();
      await receiver?.close();
    });
    const db = () => gw.services.database.db;

    test('a beneficiary is resolved through the provider, stored with the name, the account number sealed', async () => {
      const read = await gw.api('GET', `/v1/beneficiaries/${beneficiary}`);
      assert.equal(read.status, 200);
      assert.equal(read.body.account_last4, '0031');
      assert.equal(read.body.provider, 'flutterwave');
      assert.ok(read.body.account_name.length > 0, 'the resolved holder name is stored');
      assert.equal(read.body.account_number, undefined, 'the full number never leaves');
      const row = await db()
        .selectFrom('beneficiaries')
        .selectAll()
        .where('id', '=', beneficiary)
        .executeTakeFirstOrThrow();
      assert.ok(!row.account_sealed.includes('0690000031'), 'sealed at rest');
      assert.match(row.account_sealed, /^v1\./);
      const list = await gw.api('GET', '/v1/beneficiaries?limit=10');
      assert.ok(list.body.data.some((b: { id: string }) => b.id === beneficiary));
      // A cursor naming no beneficiary is refused, not read as "from the start".
      const unknown = await gw.api('GET', '/v1/beneficiaries?starting_after=ben_0000000000000000000000');
      assert.equal(unknown.status, 422, JSON.stringify(unknown.body));
      assert.deepEqual([unknown.body.error.code, unknown.body.error.param], ['parameter_invalid', 'starting_after']);
    });

    test('beneficiary refusals: a bank code not in the provider list, an account that does not resolve, bad fields', async () => {
      const base = { type: 'bank_account', currency: 'NGN', country: 'NG', account_number: '0690000031' };
      const badBank = await gw.api('POST', '/v1/beneficiaries', { ...base, bank_code: '999' });
      assert.equal(badBank.status, 422);
      assert.equal(badBank.body.error.param, 'bank_code');
      const unresolved = await gw.api('POST', '/v1/beneficiaries', {
        ...base,
        bank_code: '044',
        account_number: '0690000000',
      });
      assert.equal(unresolved.body.error.code, 'account_not_resolved');
      const unknownField = await gw.api('POST', '/v1/beneficiaries', { ...base, bank_code: '044', iban: 'x' });
      assert.equal(unknownField.status, 422);
      const missing = await gw.api('POST', '/v1/beneficiaries', {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
      });
      assert.equal(missing.body.error.code, 'parameter_missing');
    });

    test('payout end to end: created, settled at the simulator, payout.processing and payout.succeeded signed (standardwebhooks), once each', async () => {
      const created = await gw.api('POST', '/v1/payouts', {
        amount: 250_050,
        currency: 'NGN',
        beneficiary,
        reference: `e2e-${randomUUID()}`,
        narration: 'Invoice 42',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.status, 'pending');
      await gw.services.worker.drain();
      // The simulator's webhook arrives over a real socket; the job then asks the provider.
      await waitFor(
        async () => (await gw.api('GET', `/v1/payouts/${created.body.id}`)).body.status === 'succeeded',
        gw,
      );
      const attempt = await db()
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      const ledger = await gw.sim('GET', `/_sim/ledger?reference=${attempt.reference}`);
      assert.deepEqual(
        ledger.map((r: { amountMinor: number; status: string }) => [r.amountMinor, r.status]),
        [[250_050, 'SUCCESSFUL']],
      );
      await gw.services.worker.drain();
      await receiver.waitFor(2);
      const wh = new Webhook(secret);
      const mine = receiver.received
        .map((d) => ({ d, payload: wh.verify(d.body, d.headers as Record<string, string>) as any }))
        .filter((x) => x.payload.data.object.id === created.body.id);
      assert.deepEqual(
        mine.map((x) => x.payload.type),
        ['payout.processing', 'payout.succeeded'],
      );
      assert.equal(mine[1]?.payload.data.object.amount, 250_050);
      assert.equal(new Set(mine.map((x) => x.d.headers['webhook-id'])).size, 2);
      const timeline = await gw.services.payouts.timeline('test', created.body.id);
      assert.ok(timeline.checks.some((c) => c.kind === 'create' && c.outcome === 'accepted'));
    });

    test('same key and body replays; same key, other body is 422; a used reference under a new key is 409 naming the payout', async () => {
      const key = randomUUID();
      const body = { amount: 10_000, currency: 'NGN', beneficiary, reference: `idem-${randomUUID()}` };
      const first = await gw.api('POST', '/v1/payouts', body, { 'idempotency-key': key });
      assert.equal(first.status, 201);
      const replay = await gw.api('POST', '/v1/payouts', body, { 'idempotency-key': key });
      assert.equal(replay.status, 201);
      assert.equal(replay.body.id, first.body.id);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      const other = await gw.api('POST', '/v1/payouts', { ...body, amount: 10_001 }, { 'idempotency-key': key });
      assert.equal(other.status, 422);
      assert.equal(other.body.error.code, 'idempotency_key_reused');
      const reused = await gw.api('POST', '/v1/payouts', body);
      assert.equal(reused.status, 409);
      assert.equal(reused.body.error.code, 'payout_reference_used');
      assert.match(reused.body.error.message, new RegExp(first.body.id));
      const count = await db().selectFrom('payouts').select('id').where('reference', '=', body.reference).execute();
      assert.equal(count.length, 1);
      const noKey = await fetch(`${gw.url}/v1/payouts`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...body, reference: `nokey-${randomUUID()}` }),
      });
      assert.equal(noKey.status, 400);
      await gw.services.worker.drain();
    });

    test('cancel works only while nothing was sent; a reference stays used after cancel', async () => {
      const reference = `cancel-${randomUUID()}`;
      const created = await gw.api('POST', '/v1/payouts', { amount: 5_000, currency: 'NGN', beneficiary, reference });
      const cancelled = await gw.api('POST', `/v1/payouts/${created.body.id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.status, 'cancelled');
      await gw.services.worker.drain();
      const attempt = await db()
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.equal(attempt.sends, 0, 'the queued submit job sent nothing');
      assert.deepEqual(await gw.sim('GET', `/_sim/ledger?reference=${attempt.reference}`), []);
      const again = await gw.api('POST', '/v1/payouts', { amount: 5_000, currency: 'NGN', beneficiary, reference });
      assert.equal(again.status, 409);

      const sent = await gw.api('POST', '/v1/payouts', {
        amount: 5_000,
        currency: 'NGN',
        beneficiary,
        reference: `sent-${randomUUID()}`,
      });
      await gw.services.worker.drain();
      const late = await gw.api('POST', `/v1/payouts/${sent.body.id}/cancel`);
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, 'payout_state_conflict');
    });

    test('refresh asks the provider now; list filters by status and beneficiary with a cursor', async () => {
      await gw.sim('PUT', '/_sim/config', { transferCompletion: 'manual' });
      try {
        const created = await gw.api('POST', '/v1/payouts', {
          amount: 7_000,
          currency: 'NGN',
          beneficiary,
          reference: `refresh-${randomUUID()}`,
        });
        await gw.services.worker.drain();
        assert.equal((await gw.api('GET', `/v1/payouts/${created.body.id}`)).body.status, 'processing');
        const attempt = await db()
          .selectFrom('payout_attempts')
          .selectAll()
          .where('payout_id', '=', created.body.id)
          .executeTakeFirstOrThrow();
        await gw.sim('POST', '/_sim/faults', { fault: 'no_webhook', reference: attempt.reference });
        await gw.sim('POST', `/_sim/transfers/${attempt.reference}/complete`, { status: 'SUCCESSFUL' });
        const refreshed = await gw.api('POST', `/v1/payouts/${created.body.id}/refresh`);
        assert.equal(refreshed.body.status, 'succeeded');
      } finally {
        await gw.sim('PUT', '/_sim/config', { transferCompletion: 'immediate' });
      }
      const page1 = await gw.api('GET', `/v1/payouts?status=succeeded&beneficiary=${beneficiary}&limit=1`);
      assert.equal(page1.status, 200);
      assert.equal(page1.body.data.length, 1);
      assert.equal(page1.body.has_more, true);
      const page2 = await gw.api('GET', `/v1/payouts?status=succeeded&limit=1&starting_after=${page1.body.data[0].id}`);
      assert.notEqual(page2.body.data[0].id, page1.body.data[0].id);
      assert.ok(page2.body.data.every((p: { status: string }) => p.status === 'succeeded'));
      const badFilter = await gw.api('GET', '/v1/payouts?status=paid');
      assert.equal(badFilter.status, 422);
    });

    test('paywarden payouts list|show: the payout, its attempt with its reference, every provider call', async () => {
      const created = await gw.api('POST', '/v1/payouts', {
        amount: 4_200,
        currency: 'NGN',
        beneficiary,
        reference: `cli-${randomUUID()}`,
      });
      await gw.services.worker.drain();
      const list = await listPayoutsText(db(), { mode: 'test', limit: 5 });
      assert.ok(list.ok);
      assert.match(list.text, new RegExp(created.body.id));
      const bad = await listPayoutsText(db(), { mode: 'test', limit: 5, status: 'paid' });
      assert.equal(bad.ok, false);
      const shown = await showPayoutText(db(), created.body.id);
      assert.ok(shown.ok);
      const attempt = await db()
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.match(shown.text, new RegExp(attempt.reference));
      assert.match(shown.text, /create\taccepted/);
      assert.equal((await showPayoutText(db(), 'po_0000000000000000000000')).ok, false);
      assert.equal((await showPayoutText(db(), 'nonsense')).ok, false);
    });

    test('balances in minor units from the provider', async () => {
      const balances = await gw.api('GET', '/v1/balances');
      assert.equal(balances.status, 200);
      const ngn = balances.body.data.find((b: { currency: string }) => b.currency === 'NGN');
      assert.equal(ngn.provider, 'flutterwave');
      assert.ok(Number.isSafeInteger(ngn.available));
    });

    test('payout refusals: unknown beneficiary, wrong currency, float amount, unknown field', async () => {
      const base = { amount: 100, currency: 'NGN', beneficiary, reference: `bad-${randomUUID()}` };
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ ...base, beneficiary: 'ben_0000000000000000000000' }, 422, 'parameter_invalid'],
        [{ ...base, currency: 'GHS' }, 422, 'parameter_invalid'],
        [{ ...base, amount: 10.5 }, 422, 'parameter_invalid'],
        [{ ...base, amount: 0 }, 422, 'parameter_invalid'],
        [{ ...base, extra: true }, 422, 'parameter_unknown'],
        [{ ...base, reference: 'has spaces' }, 422, 'parameter_invalid'],
      ];
      for (const [body, status, code] of cases) {
        const res = await gw.api('POST', '/v1/payouts', body);
        assert.equal(res.status, status, JSON.stringify(body));
        assert.equal(res.body.error.code, code, JSON.stringify(res.body));
      }
      const missing = await gw.api('GET', '/v1/payouts/po_0000000000000000000000');
      assert.equal(missing.status, 404);
    });
  });
}

async function waitFor(done: () => Promise<boolean>, gw: TestGateway): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if (await done()) return;
    await gw.services.worker.drain();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition not reached');
}
