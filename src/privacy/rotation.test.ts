// Key rotation at rest (issue 12 §3) on both databases, against a running gateway that keeps
// writing: the master key rotated by its job in the gateway's own queue (a crash injected inside a
// batch, then resumed by the job's retry), every wrapped key re-wrapped and every sealed value
// still opening; the old version retired and then really unusable, even configured; the payload
// key rotated the same way, the job waiting for the gateways to switch keys before it finishes;
// nothing in the clear at any point; retirement refused, with the reason, while anything still
// uses a version.
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
import { createKeyRotationJob, KEY_ROTATION_JOB } from './rotation-batch.ts';
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
        clock,
        env: { PAYWARDEN_DATABASE_URL: url, PAYWARDEN_MASTER_KEY: keyB, PAYWARDEN_MASTER_KEY_PREVIOUS: keyA },
      });
    });
    /** The gateway's rotation job, with a crash injected inside the batch of that step (until put back). */
    const crashJobAtStep = (crashAt: number) =>
      gw.services.worker.register(
        KEY_ROTATION_JOB,
        createKeyRotationJob(jobDeps(), {
          beforeCommit: (step) => {
            if (step === crashAt) throw new Error('injected crash inside a batch');
          },
        }),
      );
    const restoreJob = () => gw.services.worker.register(KEY_ROTATION_JOB, createKeyRotationJob(jobDeps()));
    const jobDeps = () => ({
      db: gw.services.database.db,
      clock,
      wrapper: gw.services.keysAtRest.wrapper,
      systemKeys: gw.services.systemKeys,
      customerKeys: gw.services.privacy.customerKeys,
      queue: gw.services.queue,
      actor: { actorType: 'system' as const, actorId: null },
    });
    /** Past any retry's backoff: the job runs again now. */
    const laterBy = (ms: number) => {
      offsetMs += ms;
    };
    after(async () => {
      await gw?.close();
      await cleanup();
    });

    test('rotate master as a job while the gateway writes, crash inside a batch, resumed by the job, retire A', async () => {
      const database = gw.services.database;
      const db = database.db;
      const keysB = gw.services.keysAtRest;
      const nameA = masterKeyName(new Secret(keyA));
      const oldWrapped = await db
        .selectFrom('customer_keys')
        .select(['id', 'wrapped_key', 'wrapped_by'])
        .where('wrapped_by', '=', nameA)
        .executeTakeFirstOrThrow();
      const refused = await (await keyRotationFor(database, keysB)).retire('master', nameA);
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? '' : refused.uses.join('; '), /customer_keys wrapped by mk:/);

      const dry = await (await keyRotationFor(database, keysB)).rotateMaster({ dryRun: true });
      assert.ok(dry.rows >= 6 + 5, 'six customer keys, the payload key and the five purpose keys');
      assert.equal(
        await db.selectFrom('key_rotations').select('id').executeTakeFirst(),
        undefined,
        'a dry run changes nothing',
      );

      const stop = keepWriting();
      const started = await (await keyRotationFor(database, keysB, { batchSize: 2, clock })).rotateMaster();
      assert.equal(started.finished, false, 'enqueued, not run');
      assert.equal(started.rows, 0);
      crashJobAtStep(3);
      await gw.services.worker.drain();
      const midway = await db.selectFrom('customer_keys').select('id').where('wrapped_by', '=', nameA).execute();
      assert.ok(midway.length > 0, 'the crash left work to resume');
      const rotation = await db.selectFrom('key_rotations').selectAll().executeTakeFirstOrThrow();
      assert.equal(Number(rotation.step), 2, 'two batches committed; the third rolled back with its position');
      const status = await keysAtRestStatus(db, keysB);
      assert.match(
        status,
        /master to mk:\w+, started .*: \d+ row\(s\) in 2 batch\(es\); job queued \(attempt 1, due .*last error: injected crash/,
      );
      await assertNothingInTheClear();
      restoreJob();
      laterBy(60_000);
      await gw.services.worker.drain();
      await stop();
      await gw.services.worker.drain();
      const done = await db
        .selectFrom('key_rotations')
        .selectAll()
        .where('id', '=', rotation.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(done.finished_at, null, 'the job finished the rotation');
      const again = await (await keyRotationFor(database, keysB)).rotateMaster({ wait: true });
      assert.equal(again.rows, 0, 'idempotent: nothing left to re-wrap');
      for (const table of ['customer_keys', 'data_keys'] as const) {
        const left = await db.selectFrom(table).select('id').where('wrapped_by', '<>', keysB.wrapper.keyName).execute();
        assert.deepEqual(left, [], `every key in ${table} wrapped by B`);
      }
      await assertEverythingOpens();
      await assertNothingInTheClear();

      const retired = await (await keyRotationFor(database, keysB)).retire('master', nameA);
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
        .select(['action', 'result', 'actor_type'])
        .where('action', 'like', 'keys_at_rest.%')
        .execute();
      assert.deepEqual([...new Set(audit.map((a) => `${a.action}:${a.result}:${a.actor_type}`))].sort(), [
        'keys_at_rest.retire:failure:cli',
        'keys_at_rest.retire:success:cli',
        'keys_at_rest.rotate:success:cli',
        'keys_at_rest.rotated:success:cli',
        'keys_at_rest.rotated:success:system',
      ]);
      assert.match(await keysAtRestStatus(db, keysB), new RegExp(`${nameA}  retired`));
    });

    test('rotate payloads as a job while the gateway writes: crash, resume, wait for the switch, finish, retire the old key', async () => {
      const database = gw.services.database;
      const db = database.db;
      const keys = gw.services.keysAtRest;
      const oldKey = gw.services.systemKeys.currentKeyId()!;
      const oldSealed = await db
        .selectFrom('idempotency_keys')
        .select(['api_key_id', 'idem_key', 'response_body'])
        .where('response_body', 'like', `s1.${oldKey}.%`)
        .executeTakeFirstOrThrow();
      const stop = keepWriting();
      const started = await (await keyRotationFor(database, keys, { batchSize: 3, clock })).rotatePayloads();
      assert.equal(started.finished, false);
      crashJobAtStep(2);
      await gw.services.worker.drain();
      restoreJob();
      laterBy(60_000);
      await gw.services.worker.drain();
      const waiting = await db
        .selectFrom('key_rotations')
        .selectAll()
        .where('id', '=', started.rotationId!)
        .executeTakeFirstOrThrow();
      assert.equal(waiting.finished_at, null, 'gateways may still seal with the old key: not finished yet');
      const queued = await db
        .selectFrom('jobs')
        .select(['run_at', 'status'])
        .where('kind', '=', KEY_ROTATION_JOB)
        .where('status', '=', 'queued')
        .execute();
      assert.equal(queued.length, 1, 'the last round is queued for when every gateway has switched');
      const refused = await (await keyRotationFor(database, keys, { clock })).retire('payloads', oldKey);
      assert.equal(refused.ok, false);
      await stop();
      laterBy(PAYLOAD_KEY_SWITCH_MS);
      await gw.services.systemKeys.refresh();
      await gw.services.worker.drain();
      const finished = await db
        .selectFrom('key_rotations')
        .selectAll()
        .where('id', '=', started.rotationId!)
        .executeTakeFirstOrThrow();
      assert.notEqual(finished.finished_at, null);
      assert.equal(finished.target, started.target);
      assert.notEqual(finished.target, oldKey);
      await assertEverythingOpens();
      await assertNothingInTheClear();

      const retired = await (await keyRotationFor(database, keys, { clock })).retire('payloads', oldKey);
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
      const current = await (await keyRotationFor(database, keys, { clock })).retire('payloads', finished.target);
      assert.equal(current.ok, false);
      assert.match(current.ok ? '' : current.uses.join(';'), /current payload key/);
    });
  });
}
