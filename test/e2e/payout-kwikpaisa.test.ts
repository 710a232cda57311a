// KwikPaisa payouts end to end on both databases (issue 9 §5): payout created, paid from the
// wallet at the simulator (signed v3 calls, payout_order_id = the attempt's reference, exact rupee
// strings), the merchant events verified with the official `standardwebhooks` package, and a
// reversal after success (payout.reversed webhook as the hint, the status call deciding).
// KwikPaisa documents no bank list or account-name look-up, so the beneficiary is stored
// directly (test/helpers/payout-kits.ts seedBankBeneficiary), not resolved through the provider.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { manualClock } from '../../src/clock.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { kwikpaisaPayoutKit } from '../helpers/payout-kits.ts';

const dialects = await testDialects();

async function waitFor(done: () => Promise<boolean>, gw: TestGateway): Promise<void> {
  for (let i = 0; i < 150; i += 1) {
    if (await done()) return;
    await gw.services.worker.drain();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail('condition not reached');
}

for (const dialect of dialects) {
  describe(`KwikPaisa payouts on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let secret: string;
    let beneficiary: string;
    const kwik = (method: string, path: string, body?: unknown) => gw.sim(method, path, body, 'kwikpaisa');
    const status = async (id: string) => (await gw.api('GET', `/v1/payouts/${id}`)).body.status as string;
    const attemptOf = (payoutId: string) =>
      gw.services.database.db
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', payoutId)
        .executeTakeFirstOrThrow();
    const eventsFor = async (payoutId: string, count: number) => {
      await receiver.waitFor(count);
      const wh = new Webhook(secret);
      return receiver.received
        .map((d) => ({ d, payload: wh.verify(d.body, d.headers as Record<string, string>) as any }))
        .filter((x) => x.payload.data.object.id === payoutId);
    };

    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      receiver = await startReceiver();
      const endpoint = await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['payout.*'] });
      assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
      secret = endpoint.body.secret;
      beneficiary = await (kwikpaisaPayoutKit.seedBeneficiary as (g: TestGateway) => Promise<string>)(gw);
    });
    after(async () => {
      await gw?.close();
      await receiver?.close();
    });

    test('a payout end to end: paid from the wallet, payout.processing and payout.succeeded verified', async () => {
      const created = await gw.api('POST', '/v1/payouts', {
        amount: 105_025,
        currency: 'INR',
        beneficiary,
        reference: `kwik-e2e-${randomUUID()}`,
        narration: 'Vendor invoice 7',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      await waitFor(async () => (await status(created.body.id)) === 'succeeded', gw);
      const attempt = await attemptOf(created.body.id);
      const ledger = (await kwik('GET', `/_sim/ledger?reference=${attempt.reference}`)) as Array<{
        amountMinor: number;
        status: string;
      }>;
      assert.deepEqual(
        ledger.map((r) => [r.amountMinor, r.status]),
        [[105_025, 'success']],
      );
      const [sent] = (await kwik('GET', '/_sim/payouts')) as Array<{
        payout_order_id: string;
        transfer_amount: string;
      }>;
      assert.deepEqual([sent?.payout_order_id, sent?.transfer_amount], [attempt.reference, '1050.25']);
      await gw.services.worker.drain();
      const mine = await eventsFor(created.body.id, 2);
      assert.deepEqual(
        mine.map((x) => x.payload.type),
        ['payout.processing', 'payout.succeeded'],
      );
      assert.equal(mine[1]?.payload.data.object.amount, 105_025);
      const balances = await gw.api('GET', '/v1/balances');
      assert.equal(balances.status, 200, JSON.stringify(balances.body));
    });

    test('success, then reversed at the bank: payout.reversed, announced once, after the succeeded', async () => {
      const created = await gw.api('POST', '/v1/payouts', {
        amount: 20_000,
        currency: 'INR',
        beneficiary,
        reference: `kwik-rev-${randomUUID()}`,
      });
      await waitFor(async () => (await status(created.body.id)) === 'succeeded', gw);
      const attempt = await attemptOf(created.body.id);
      await kwik('POST', `/_sim/payouts/${attempt.reference}/complete`, { status: 'reversed' });
      // The signed payout.reversed webhook is the hint; the status call decides.
      await waitFor(async () => (await status(created.body.id)) === 'reversed', gw);
      await gw.services.worker.drain();
      const mine = await eventsFor(created.body.id, 5);
      assert.deepEqual(
        mine.map((x) => x.payload.type),
        ['payout.processing', 'payout.succeeded', 'payout.reversed'],
      );
    });
  });
}
