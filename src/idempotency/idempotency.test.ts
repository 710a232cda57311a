// The Idempotency-Key store (idempotency.ts) on both databases: a lock that lapsed is taken over and
// the taker is told so; a request that outlived its lock can neither store its answer over the
// taker's nor delete it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { manualClock } from '../clock.ts';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { LOCK_MS } from './idempotency.ts';

for (const dialect of await testDialects()) {
  describe(`Idempotency-Key locks on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const clock = manualClock(Date.now());
    const store = () => gw.services.idempotency;
    const row = (key: string) =>
      gw.services.database.db
        .selectFrom('idempotency_keys')
        .select(['state', 'response_status'])
        .where('idem_key', '=', key)
        .executeTakeFirst();
    before(async () => {
      gw = await startTestGateway(dialect, { clock });
    });
    after(async () => gw?.close());

    const proceed = async (key: string) => {
      const claim = await store().claim(gw.keyId, key, 'hash-of-the-request');
      assert.equal(claim.kind, 'proceed');
      return claim as Extract<typeof claim, { kind: 'proceed' }>;
    };

    test('the taker of a lapsed lock is told so; the request that outlived it stores nothing', async () => {
      const key = randomUUID();
      const first = await proceed(key);
      assert.equal(first.takenOver, false);
      await assert.rejects(store().claim(gw.keyId, key, 'hash-of-the-request'), { code: 'idempotency_key_in_flight' });

      clock.advance(LOCK_MS + 1);
      const second = await proceed(key);
      assert.equal(second.takenOver, true);
      assert.ok(second.lockedUntilMs > first.lockedUntilMs);

      // The first request comes back after the takeover: its answer is not kept, nor its failure.
      await store().complete(gw.keyId, key, first.lockedUntilMs, 201, '{"answer":"stale"}');
      assert.deepEqual(await row(key), { state: 'in_flight', response_status: null });
      await store().complete(gw.keyId, key, first.lockedUntilMs, 502, '{"error":"stale"}');
      assert.ok((await row(key)) !== undefined, 'the taker keeps its lock');

      await store().complete(gw.keyId, key, second.lockedUntilMs, 201, '{"answer":"taker"}');
      await store().complete(gw.keyId, key, first.lockedUntilMs, 201, '{"answer":"stale"}');
      const replay = await store().claim(gw.keyId, key, 'hash-of-the-request');
      assert.deepEqual(replay, { kind: 'replay', status: 201, body: '{"answer":"taker"}' });
    });

    test('an answer that asks to be retried frees the key for the same request only while it holds it', async () => {
      const key = randomUUID();
      const first = await proceed(key);
      await store().complete(gw.keyId, key, first.lockedUntilMs, 503, '{"error":"later"}');
      assert.equal(await row(key), undefined, 'a 5xx is not kept');
      const again = await proceed(key);
      assert.equal(again.takenOver, false, 'a new claim, not a takeover');
    });
  });
}
