// Exactly-once rules the fault suite does not isolate (issue 9 §2), on both databases: at most one
// open attempt per payout is the database's rule (a partial unique index), a new reference exists
// only after a definite failure and only by an explicit, audited action, and the one transition
// mechanism lets exactly one of two racing writers move a payout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { insertAttempt } from '../../src/payouts/attempts.ts';
import { transitionPayout } from '../../src/payouts/transition.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const dialects = await testDialects();

for (const dialect of dialects) {
  describe(`payout rules on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.UTC(2026, 5, 1));
    let gw: TestGateway;
    let beneficiary: string;
    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      const created = await gw.api('POST', '/v1/beneficiaries', {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
        bank_code: '044',
        account_number: '0690000031',
      });
      beneficiary = created.body.id;
    });
    after(() => gw?.close());
    const db = () => gw.services.database.db;
    const newPayout = async () =>
      (
        await gw.api('POST', '/v1/payouts', {
          amount: 3_000,
          currency: 'NGN',
          beneficiary,
          reference: `rule-${randomUUID()}`,
        })
      ).body.id as string;

    test('a second open attempt for a payout is refused by the database', async () => {
      const payoutId = await newPayout();
      await assert.rejects(
        insertAttempt(db(), clock, { payoutId, attemptNo: 2, provider: 'flutterwave', createdBy: null }),
        (error: unknown) => gw.services.database.dialect.isUniqueViolation(error),
      );
      await gw.services.worker.drain();
    });

    test('a new reference only after a definite failure, by an explicit audited action', async () => {
      const payoutId = await newPayout();
      const first = await db()
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', payoutId)
        .executeTakeFirstOrThrow();
      await gw.sim('POST', '/_sim/faults', { fault: 'insufficient_balance', reference: first.reference });
      const ctx = {
        mode: 'test' as const,
        apiKeyId: 'key_cli',
        requestId: 'req_test',
        ip: '127.0.0.1',
        operatorId: 'op_test',
      };
      // Not yet failed: refused.
      await assert.rejects(gw.services.payouts.newAttempt(ctx, payoutId, 'too early'), /definitely failed/);
      for (let i = 0; i < 5; i += 1) {
        await gw.services.worker.drain();
        if ((await gw.services.payouts.get('test', payoutId))?.status === 'failed') break;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      assert.equal((await gw.services.payouts.get('test', payoutId))?.status, 'failed');
      const retried = await gw.services.payouts.newAttempt(ctx, payoutId, 'balance topped up');
      assert.equal(retried.status, 'pending');
      for (let i = 0; i < 20; i += 1) {
        await gw.services.worker.drain();
        if ((await gw.services.payouts.get('test', payoutId))?.status === 'succeeded') break;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
      assert.equal((await gw.services.payouts.get('test', payoutId))?.status, 'succeeded');
      const attempts = await db()
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', payoutId)
        .orderBy('attempt_no')
        .execute();
      assert.equal(attempts.length, 2);
      assert.notEqual(attempts[1]?.reference, attempts[0]?.reference);
      assert.equal(attempts[0]?.state, 'failed');
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('object_id', '=', payoutId)
        .where('action', '=', 'payout.transition.failed.pending')
        .executeTakeFirstOrThrow();
      assert.equal(audit.actor_type, 'operator');
      assert.match(audit.details_json, /balance topped up/);
    });

    test('two racing writers: one transition, one event', async () => {
      const payoutId = await newPayout();
      const deps = { queue: gw.services.queue, clock };
      const move = () =>
        db()
          .transaction()
          .execute((trx) =>
            transitionPayout(trx, deps, {
              payoutId,
              to: 'processing',
              reason: 'race',
              actor: { type: 'system', id: null },
            }),
          );
      const results = await Promise.all([move(), move(), move()]);
      assert.equal(results.filter((r) => r.ok).length, 1);
      const events = await db()
        .selectFrom('events')
        .select('type')
        .where('object_id', '=', payoutId)
        .where('type', '=', 'payout.processing')
        .execute();
      assert.equal(events.length, 1);
      await gw.services.worker.drain();
    });
  });
}
