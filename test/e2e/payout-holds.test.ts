// Holds and maker-checker approvals (issue 10 §2, PAY-5) on both databases: amount thresholds at
// the boundary, two distinct approvers, the maker never approves (API key, the operator who made
// the key, the operator who made the payout), a double approval counted once (also racing on
// PostgreSQL), reject and expiry end the payout without any provider call, a released payout is
// paid by the engine as any other, and a held payout can be cancelled.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { insertTestOperator } from '../../src/operators/testing.ts';
import { SCOPES } from '../../src/keys/scopes.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { THRESHOLDS } from '../helpers/payout-controls.ts';
import { saveNgnBeneficiary, settlePayout } from '../helpers/payouts.ts';

const dialects = await testDialects();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

for (const dialect of dialects) {
  describe(`payout holds and approvals on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.UTC(2026, 5, 1));
    let gw: TestGateway;
    let beneficiary: string;
    let alice: string;
    let bob: string;
    let viewer: string;
    const db = () => gw.services.database.db;
    const opCtx = (operatorId: string) => ({
      mode: 'test' as const,
      apiKeyId: '',
      operatorId,
      requestId: `req_${randomUUID()}`,
      ip: '127.0.0.1',
    });
    const create = async (amount: number) => {
      const res = await gw.api('POST', '/v1/payouts', {
        amount,
        currency: 'NGN',
        beneficiary,
        reference: `hold-${randomUUID()}`,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body;
    };
    const read = async (id: string) => (await gw.api('GET', `/v1/payouts/${id}`)).body;
    const sends = async (id: string) =>
      Number(
        (
          await db()
            .selectFrom('payout_attempts')
            .select((eb) => eb.fn.sum<number>('sends').as('n'))
            .where('payout_id', '=', id)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    const settle = (id: string) => settlePayout(gw, id);

    before(async () => {
      gw = await startTestGateway(dialect, { clock, payoutControls: THRESHOLDS });
      beneficiary = (await saveNgnBeneficiary(gw)).id;
      alice = await insertTestOperator(db(), { role: 'finance' });
      bob = await insertTestOperator(db(), { role: 'admin' });
      viewer = await insertTestOperator(db(), { role: 'viewer' });
    });
    after(() => gw?.close());

    test('thresholds at the boundary: exactly the amount passes, one minor unit over is held', async () => {
      const atOne = await create(10_000);
      assert.equal(atOne.status, 'pending');
      assert.equal(atOne.hold, null);
      const overOne = await create(10_001);
      assert.equal(overOne.status, 'on_hold');
      assert.equal(overOne.status_reason, 'awaiting_approval');
      assert.deepEqual(
        overOne.hold.rules.map((r: { rule: string }) => r.rule),
        ['amount'],
      );
      assert.equal(overOne.hold.approvals_required, 1);
      assert.equal(overOne.hold.approvals, 0);
      assert.equal(overOne.hold.expires_at, new Date(clock.nowMs() + 7 * DAY).toISOString());
      const atTwo = await create(50_000);
      assert.equal(atTwo.hold.approvals_required, 1);
      const overTwo = await create(50_001);
      assert.equal(overTwo.hold.approvals_required, 2);
      // Held before anything could be sent: no submit job exists for it.
      await gw.services.worker.drain();
      assert.equal(await sends(overOne.id), 0);
      assert.equal((await read(overOne.id)).status, 'on_hold');
      // The event says which rule held it.
      const event = await db()
        .selectFrom('events')
        .selectAll()
        .where('object_id', '=', overTwo.id)
        .where('type', '=', 'payout.on_hold')
        .executeTakeFirstOrThrow();
      const object = JSON.parse(event.data_json).object;
      assert.equal(object.hold.rules[0].rule, 'amount');
      assert.equal(object.hold.rules[0].detail.above, 50_000);
      assert.equal(await settle(atOne.id), 'succeeded');
    });

    test('two distinct approvers above the second amount; one approver twice counts once; then paid once', async () => {
      const payout = await create(60_000);
      const first = await gw.services.payoutHolds.decide(opCtx(alice), payout.id, 'approve', 'invoice 1 checked');
      assert.equal(first.ok && first.outcome, 'approved');
      const again = await gw.services.payoutHolds.decide(opCtx(alice), payout.id, 'approve', 'double click');
      assert.equal(again.ok && again.outcome, 'already_decided');
      let held = await read(payout.id);
      assert.equal(held.status, 'on_hold');
      assert.equal(held.hold.approvals, 1);
      const second = await gw.services.payoutHolds.decide(opCtx(bob), payout.id, 'approve', 'second pair of eyes');
      assert.equal(second.ok && second.outcome, 'released');
      held = await read(payout.id);
      assert.equal(held.status, 'pending');
      assert.equal(held.hold.resolution, 'released');
      assert.equal(await settle(payout.id), 'succeeded');
      assert.equal(await sends(payout.id), 1);
      const audits = await db()
        .selectFrom('audit_log')
        .select(['action', 'actor_id', 'details_json'])
        .where('object_id', '=', payout.id)
        .where('action', '=', 'payout.approve')
        .execute();
      assert.deepEqual(audits.map((a) => a.actor_id).sort(), [alice, bob].sort());
      assert.ok(audits.every((a) => JSON.parse(a.details_json).reason.length > 0));
    });

    test('the maker never approves: the API key, the operator who made the key, the operator who made the payout', async () => {
      const byKey = await create(20_000);
      const asKey = await gw.services.payoutHolds.decide(
        { mode: 'test', apiKeyId: gw.keyId, requestId: 'req_x', ip: '127.0.0.1' },
        byKey.id,
        'approve',
        'self',
      );
      assert.deepEqual(asKey, { ok: false, reason: 'operator_required' });

      // A key made by alice: payouts made with it are alice's too.
      const aliceKey = await gw.services.keys.create(
        { mode: 'test', name: 'alice-key', scopes: SCOPES },
        { actorType: 'operator', actorId: alice },
      );
      const viaAliceKey = await fetch(`${gw.url}/v1/payouts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${aliceKey.key}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({ amount: 20_000, currency: 'NGN', beneficiary, reference: `hold-${randomUUID()}` }),
      }).then((r) => r.json() as Promise<{ id: string; status: string }>);
      assert.equal(viaAliceKey.status, 'on_hold');
      assert.deepEqual(await gw.services.payoutHolds.decide(opCtx(alice), viaAliceKey.id, 'approve', 'mine'), {
        ok: false,
        reason: 'maker_cannot_approve',
      });

      const byBob = await gw.services.payouts.create(opCtx(bob), {
        amount: 20_000,
        currency: 'NGN',
        beneficiary,
        reference: `hold-${randomUUID()}`,
      });
      assert.equal(byBob.status, 'on_hold');
      assert.deepEqual(await gw.services.payoutHolds.decide(opCtx(bob), byBob.id, 'approve', 'mine'), {
        ok: false,
        reason: 'maker_cannot_approve',
      });
      // A role without approve_payouts cannot either.
      assert.deepEqual(await gw.services.payoutHolds.decide(opCtx(viewer), byBob.id, 'approve', 'x'), {
        ok: false,
        reason: 'not_permitted',
      });
      const refusals = await db()
        .selectFrom('audit_log')
        .select('result')
        .where('object_id', 'in', [byKey.id, viaAliceKey.id, byBob.id])
        .where('action', '=', 'payout.approve')
        .execute();
      assert.equal(refusals.length, 4);
      assert.ok(refusals.every((r) => r.result === 'denied'));
      // Someone else may.
      const ok = await gw.services.payoutHolds.decide(opCtx(alice), byBob.id, 'approve', 'checked');
      assert.equal(ok.ok && ok.outcome, 'released');
      assert.equal(await settle(byBob.id), 'succeeded');
    });

    test('reject ends the payout without any provider call, audited with its reason', async () => {
      const payout = await create(20_000);
      const rejected = await gw.services.payoutHolds.decide(opCtx(alice), payout.id, 'reject', 'unknown invoice');
      assert.equal(rejected.ok && rejected.outcome, 'rejected');
      await gw.services.worker.drain();
      const after = await read(payout.id);
      assert.equal(after.status, 'rejected');
      assert.equal(after.status_reason, 'rejected_by_approver');
      assert.equal(after.hold.resolution, 'rejected');
      assert.equal(await sends(payout.id), 0);
      const checks = await db().selectFrom('payout_checks').select('id').where('payout_id', '=', payout.id).execute();
      assert.equal(checks.length, 0, 'no provider call');
      const late = await gw.services.payoutHolds.decide(opCtx(bob), payout.id, 'approve', 'too late');
      assert.deepEqual(late, { ok: false, reason: 'not_on_hold' });
      const audit = await db()
        .selectFrom('audit_log')
        .select('details_json')
        .where('object_id', '=', payout.id)
        .where('action', '=', 'payout.reject')
        .executeTakeFirstOrThrow();
      assert.equal(JSON.parse(audit.details_json).reason, 'unknown invoice');
    });

    test('an unapproved payout expires after the configured time and is never sent', async () => {
      const payout = await create(20_000);
      const oneApproval = await create(60_000);
      await gw.services.payoutHolds.decide(opCtx(alice), oneApproval.id, 'approve', 'one of two');
      clock.advance(7 * DAY - 1);
      assert.deepEqual(await gw.services.payoutHolds.sweep(), { released: 0, expired: 0 });
      assert.equal((await read(payout.id)).status, 'on_hold');
      clock.advance(1);
      const swept = await gw.services.payoutHolds.sweep();
      assert.ok(swept.expired >= 2, JSON.stringify(swept));
      for (const id of [payout.id, oneApproval.id]) {
        const after = await read(id);
        assert.equal(after.status, 'expired');
        assert.equal(after.status_reason, 'approval_expired');
        assert.equal(await sends(id), 0);
      }
      await gw.services.worker.drain();
      assert.equal((await read(payout.id)).status, 'expired');
      assert.ok(
        await db()
          .selectFrom('events')
          .select('id')
          .where('object_id', '=', payout.id)
          .where('type', '=', 'payout.expired')
          .executeTakeFirst(),
      );
    });

    test('expiry runs as scheduled work: a scheduler tick queues the hold sweep once, its job expires the payout', async () => {
      const payout = await create(20_000);
      clock.advance(7 * DAY);
      const queued = await gw.scheduler.tick();
      assert.ok(queued >= 1);
      const slots = await db()
        .selectFrom('scheduled_runs')
        .select('slot')
        .where('name', '=', 'payout_hold_sweep')
        .execute();
      assert.equal(slots.length, 1);
      assert.equal((await read(payout.id)).status, 'on_hold', 'nothing happens before the job runs');
      await gw.services.worker.drain();
      assert.equal((await read(payout.id)).status, 'expired');
      assert.equal(await gw.scheduler.tick(), 0, 'the same slot is not queued again');
    });

    test('a held payout can be cancelled by the merchant; it is never sent', async () => {
      const payout = await create(20_000);
      const cancelled = await gw.api('POST', `/v1/payouts/${payout.id}/cancel`);
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      assert.equal(cancelled.body.status, 'cancelled');
      assert.equal(cancelled.body.hold.resolution, 'cancelled');
      assert.equal(await sends(payout.id), 0);
    });

    test('holdForApproval (the bulk-file entry point) holds a pending payout whatever its amount', async () => {
      const small = await gw.services.payouts.create(
        { mode: 'test', apiKeyId: gw.keyId, requestId: 'req_b', ip: '127.0.0.1' },
        { amount: 100, currency: 'NGN', beneficiary, reference: `hold-${randomUUID()}` },
        { hold: { rule: 'batch', detail: { batch: 'pb_test' } } },
      );
      assert.equal(small.status, 'on_hold');
      const object = await read(small.id);
      assert.deepEqual(object.hold.rules, [{ rule: 'batch', approvals: 1, detail: { batch: 'pb_test' } }]);
      const released = await gw.services.payoutHolds.decide(opCtx(alice), small.id, 'approve', 'file checked');
      assert.equal(released.ok && released.outcome, 'released');
      assert.equal(await settle(small.id), 'succeeded');
    });

    // On PostgreSQL these race for real (the pool has 8 connections); SQLite takes them in turn.
    test('racing approvals: one approver clicking five times counts once; two approvers at once release once', async () => {
      const payout = await create(60_000);
      const clicks = await Promise.all(
        Array.from({ length: 5 }, () => gw.services.payoutHolds.decide(opCtx(alice), payout.id, 'approve', 'click')),
      );
      assert.equal(clicks.filter((c) => c.ok && c.outcome === 'approved').length, 1);
      assert.equal(clicks.filter((c) => c.ok && c.outcome === 'already_decided').length, 4);
      const rows = await db().selectFrom('payout_decisions').select('id').where('payout_id', '=', payout.id).execute();
      assert.equal(rows.length, 1);
      assert.equal((await read(payout.id)).hold.approvals, 1);

      const both = await create(60_000);
      const outcomes = await Promise.all([
        gw.services.payoutHolds.decide(opCtx(alice), both.id, 'approve', 'a'),
        gw.services.payoutHolds.decide(opCtx(bob), both.id, 'approve', 'b'),
      ]);
      assert.deepEqual(outcomes.map((o) => o.ok && o.outcome).sort(), ['approved', 'released']);
      const releases = await db()
        .selectFrom('audit_log')
        .select('id')
        .where('object_id', '=', both.id)
        .where('action', '=', 'payout.transition.on_hold.pending')
        .execute();
      assert.equal(releases.length, 1);
      assert.equal(await settle(both.id), 'succeeded');
      assert.equal(await sends(both.id), 1);
    });
  });
}
