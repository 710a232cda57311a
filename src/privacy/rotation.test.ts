// Key rotation at rest (issue 12 §3) on both databases, against a running gateway that keeps
// writing: the master key rotated (a crash injected between batches, then resumed), every wrapped
// key re-wrapped and every sealed value still opening; the old version retired and then really
// unusable, even configured; the payload key rotated the same way; nothing in the clear at any
// point; retirement refused, with the reason, while anything still uses a version.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { storedText } from '../../test/helpers/stored-text.ts';
import { keyRotationFor, keysAtRestStatus } from '../cli/keys-at-rest.ts';
import { Secret } from '../crypto/secret.ts';
import { masterKeyName } from './key-wrapper.ts';
import { openKeysAtRest } from './keys-at-rest.ts';
import { PAYLOAD_KEY_SWITCH_MS } from './rotation.ts';
import { createSystemKeys } from './system-keys.ts';

const token = () => randomBytes(6).toString('hex');
const newMasterKey = () => randomBytes(32).toString('base64');

for (const dialect of await testDialects()) {
  describe(`keys at rest: rotation and retirement on ${dialect.name}`, { skip: dialect.skip }, () => {
    const keyA = newMasterKey();
    const keyB = newMasterKey();
    let url = '';
    let cleanup = async () => {};
    let gw: TestGateway;
    const made: { id: string; email: string; idem: string; apiKey: string; body: Record<string, unknown> }[] = [];
    let offsetMs = 0;
    const clock = { nowMs: () => Date.now() + offsetMs };

    const pay = async (target: TestGateway) => {
      const email = `ada.${token()}@example.com`;
      const idem = token();
      const body = {
        amount: 5000,
        currency: 'NGN',
        reference: `rot-${token()}`,
        customer: { email, name: `Ada ${token()}` },
        redirect_url: 'https://shop.example/thanks',
      };
      const created = await target.api('POST', '/v1/payments', body, { 'idempotency-key': idem });
      assert.equal(created.status, 201);
      made.push({ id: created.body.id, email, idem, apiKey: target.key, body });
    };
    /** Writes payments until stopped: the gateway at work while the rotation runs. */
    const keepWriting = () => {
      let running = true;
      const done = (async () => {
        while (running) await pay(gw);
      })();
      return async () => {
        running = false;
        await done;
      };
    };
    const assertNothingInTheClear = async () => {
      const stored = await storedText(gw.services.database, gw.services.config.databaseUrl);
      for (const { email } of made) assert.ok(!stored.includes(email), `${email} stored in the clear`);
    };
    const assertEverythingOpens = async () => {
      for (const p of made) {
        const read = await gw.api('GET', `/v1/payments/${p.id}`);
        assert.equal(read.body.customer.email, p.email, `payment ${p.id} opens`);
      }
      for (const p of [...made.slice(0, 3), ...made.slice(-3)]) {
        const replay = await gw.api('POST', '/v1/payments', p.body, {
          'idempotency-key': p.idem,
          authorization: `Bearer ${p.apiKey}`,
        });
        assert.equal(replay.body.id, p.id, 'the stored answer (payload key) opens');
      }
    };

    before(async () => {
      ({ url, cleanup } = await dialect.create());
      // A deployment on master key A with data, then restarted with B as current and A as previous.
      const first = await startTestGateway(dialect, {
        env: { PAYWARDEN_DATABASE_URL: url, PAYWARDEN_MASTER_KEY: keyA },
      });
      gw = first;
      for (let i = 0; i < 6; i += 1) await pay(first);
      await first.close();
      gw = await startTestGateway(dialect, {
        env: { PAYWARDEN_DATABASE_URL: url, PAYWARDEN_MASTER_KEY: keyB, PAYWARDEN_MASTER_KEY_PREVIOUS: keyA },
      });
    });
    after(async () => {
      await gw?.close();
      await cleanup();
    });

    test('rotate master while the gateway writes, crash between batches, resume, retire A', async () => {
      const db = gw.services.database.db;
      const keysB = gw.services.keysAtRest;
      const nameA = masterKeyName(new Secret(keyA));
      const oldWrapped = await db
        .selectFrom('customer_keys')
        .select(['id', 'wrapped_key', 'wrapped_by'])
        .where('wrapped_by', '=', nameA)
        .executeTakeFirstOrThrow();
      const refused = await (await keyRotationFor(db, keysB)).retire('master', nameA);
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? '' : refused.uses.join('; '), /customer_keys wrapped by mk:/);

      const dry = await (await keyRotationFor(db, keysB)).rotateMaster({ dryRun: true });
      assert.ok(dry.rows >= 6 + 5, 'six customer keys, the payload key and the five purpose keys');
      assert.equal(
        await db.selectFrom('key_rotations').select('id').executeTakeFirst(),
        undefined,
        'a dry run changes nothing',
      );

      const stop = keepWriting();
      const lines: string[] = [];
      const crashing = await keyRotationFor(db, keysB, {
        batchSize: 2,
        progress: (line) => lines.push(line),
        afterBatch: async (n) => {
          await assertNothingInTheClear();
          if (n === 2) throw new Error('injected crash between batches');
        },
      });
      await assert.rejects(crashing.rotateMaster(), /injected crash/);
      const midway = await db.selectFrom('customer_keys').select('id').where('wrapped_by', '=', nameA).execute();
      assert.ok(midway.length > 0, 'the crash left work to resume');
      const resumed = await (
        await keyRotationFor(db, keysB, { batchSize: 2, progress: (l) => lines.push(l) })
      ).rotateMaster();
      await stop();
      assert.equal(resumed.resumed, true);
      assert.equal(resumed.finished, true);
      assert.ok(
        lines.some((l) => /re-wrapped/.test(l)),
        'progress lines',
      );
      const again = await (await keyRotationFor(db, keysB)).rotateMaster();
      assert.equal(again.rows, 0, 'idempotent: nothing left to re-wrap');
      for (const table of ['customer_keys', 'data_keys'] as const) {
        const left = await db.selectFrom(table).select('id').where('wrapped_by', '<>', keysB.wrapper.keyName).execute();
        assert.deepEqual(left, [], `every key in ${table} wrapped by B`);
      }
      await assertEverythingOpens();
      await assertNothingInTheClear();

      const retired = await (await keyRotationFor(db, keysB)).retire('master', nameA);
      assert.deepEqual(retired, { ok: true });
      // Still configured as previous, A opens nothing: not even a copy of a key it wrapped (a backup).
      const reopened = await openKeysAtRest({
        db,
        masterKey: new Secret(keyB),
        previousMasterKeys: [new Secret(keyA)],
        clock,
      });
      assert.equal(reopened.wrapper.readable.includes(nameA), false);
      assert.throws(
        () => reopened.wrapper.unwrap(oldWrapped.wrapped_key!, `customer_keys:${oldWrapped.id}`, nameA),
        /not configured \(or retired\)/,
      );
      await assert.rejects(openKeysAtRest({ db, masterKey: new Secret(keyA), clock }), /retired master key/);
      const audit = await db
        .selectFrom('audit_log')
        .select(['action', 'result'])
        .where('action', 'like', 'keys_at_rest.%')
        .execute();
      assert.deepEqual([...new Set(audit.map((a) => `${a.action}:${a.result}`))].sort(), [
        'keys_at_rest.retire:failure',
        'keys_at_rest.retire:success',
        'keys_at_rest.rotate:success',
        'keys_at_rest.rotated:success',
      ]);
      assert.match(await keysAtRestStatus(db, keysB), new RegExp(`${nameA}  retired`));
    });

    test('rotate payloads while the gateway writes: crash, resume, finish after the switch, retire the old key', async () => {
      const db = gw.services.database.db;
      const keys = gw.services.keysAtRest;
      const oldKey = gw.services.systemKeys.currentKeyId()!;
      const oldSealed = await db
        .selectFrom('idempotency_keys')
        .select(['api_key_id', 'idem_key', 'response_body'])
        .where('response_body', 'like', `s1.${oldKey}.%`)
        .executeTakeFirstOrThrow();
      const stop = keepWriting();
      const crashing = await keyRotationFor(db, keys, {
        batchSize: 3,
        clock,
        afterBatch: (n) => {
          if (n === 1) throw new Error('injected crash between batches');
        },
      });
      await assert.rejects(crashing.rotatePayloads(), /injected crash/);
      const first = await (await keyRotationFor(db, keys, { batchSize: 3, clock })).rotatePayloads();
      assert.equal(first.resumed, true);
      assert.equal(first.finished, false, 'gateways may still seal with the old key: not finished yet');
      const refused = await (await keyRotationFor(db, keys, { clock })).retire('payloads', oldKey);
      assert.equal(refused.ok, false);
      await stop();
      offsetMs = PAYLOAD_KEY_SWITCH_MS + 1_000;
      await gw.services.systemKeys.refresh();
      const finished = await (await keyRotationFor(db, keys, { batchSize: 3, clock })).rotatePayloads();
      assert.equal(finished.finished, true);
      assert.equal(finished.target, first.target);
      assert.notEqual(finished.target, oldKey);
      await assertEverythingOpens();
      await assertNothingInTheClear();

      const retired = await (await keyRotationFor(db, keys, { clock })).retire('payloads', oldKey);
      assert.deepEqual(retired, { ok: true });
      const fresh = createSystemKeys({ db, wrapper: keys.wrapper, clock });
      await fresh.init();
      await assert.rejects(
        fresh.open(
          oldSealed.response_body!,
          `idempotency_keys.response_body:${oldSealed.api_key_id}:${oldSealed.idem_key}`,
        ),
        /not available/,
      );
      const current = await (await keyRotationFor(db, keys, { clock })).retire('payloads', finished.target);
      assert.equal(current.ok, false);
      assert.match(current.ok ? '' : current.uses.join(';'), /current payload key/);
    });
  });
}
