// Rotating customers' own data keys (issue 12 §3, DAT-3) on both databases, as a job in the
// gateway's own queue while it keeps writing: values under the old and the new version both open
// during the rotation; a crash inside a batch is resumed by the job; writes for a customer already
// rotated land under the new version; drained, every value is under its customer's newest
// version; retiring the superseded versions is refused while anything uses them and allowed after;
// two runners at once never do a batch twice; an erasure after a rotation destroys every version,
// proved by reading the database directly; a tampered version number or a value moved to another
// row does not open; and the raw tables hold no personal data in the clear.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { testDialects } from '../../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { storedText } from '../../test/helpers/stored-text.ts';
import { keyRotationFor, keysAtRestStatus } from '../cli/keys-at-rest.ts';
import { customerKeyContext } from './customer-keys.ts';
import { eventDataContext, paymentFieldContext } from './privacy-service.ts';
import { createKeyRotationJob, KEY_ROTATION_JOB } from './rotation-batch.ts';
import { CUSTOMER_KEY_SWITCH_MS } from './rotation.ts';
import { type Keyring, keyVersionOf, openVersioned } from './seal.ts';

const token = () => randomBytes(6).toString('hex');

for (const dialect of await testDialects()) {
  describe(`customer key rotation on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let offsetMs = 0;
    const clock = { nowMs: () => Date.now() + offsetMs };
    const emails = Array.from({ length: 5 }, () => `cus.${token()}@example.com`);
    const made: { id: string; email: string }[] = [];

    const pay = async (email: string) => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 2500,
        currency: 'NGN',
        reference: `ckr-${token()}`,
        customer: { email, name: `Name ${token()}`, phone: '+2348012345678' },
        redirect_url: 'https://shop.example/thanks',
        metadata: { note: `note-${token()}` },
      });
      assert.equal(created.status, 201);
      made.push({ id: created.body.id, email });
      return created.body.id as string;
    };
    const db = () => gw.services.database.db;
    const customerOf = async (paymentId: string) =>
      (await db().selectFrom('payments').select('customer_id').where('id', '=', paymentId).executeTakeFirstOrThrow())
        .customer_id!;
    const storedEmail = async (paymentId: string) =>
      (await db().selectFrom('payments').select('customer_email').where('id', '=', paymentId).executeTakeFirstOrThrow())
        .customer_email!;
    const assertEverythingOpens = async () => {
      for (const p of made) {
        const read = await gw.api('GET', `/v1/payments/${p.id}`);
        assert.equal(read.body.customer.email, p.email, `payment ${p.id} opens`);
      }
      const events = await gw.api('GET', '/v1/events?limit=100');
      assert.equal(events.status, 200, 'every event opens');
    };
    const assertNothingInTheClear = async () => {
      const stored = await storedText(gw.services.database, gw.services.config.databaseUrl);
      for (const { email } of made) assert.ok(!stored.includes(email), `${email} stored in the clear`);
    };
    const jobDeps = () => ({
      db: db(),
      clock,
      wrapper: gw.services.keysAtRest.wrapper,
      systemKeys: gw.services.systemKeys,
      customerKeys: gw.services.privacy.customerKeys,
      queue: gw.services.queue,
      actor: { actorType: 'system' as const, actorId: null },
    });
    const rotation = (batchSize = 2) =>
      keyRotationFor(gw.services.database, gw.services.keysAtRest, { batchSize, clock });
    /** Drains the job, moves past the key switch for its last round, and checks it finished. */
    const runToTheEnd = async (rotationId: string) => {
      await gw.services.worker.drain();
      offsetMs += CUSTOMER_KEY_SWITCH_MS;
      await gw.services.worker.drain();
      const done = await db()
        .selectFrom('key_rotations')
        .selectAll()
        .where('id', '=', rotationId)
        .executeTakeFirstOrThrow();
      assert.notEqual(done.finished_at, null);
      return done;
    };
    /** Every value of the customer in payments and events, with its place. */
    const valuesOf = async (customerId: string) => {
      const values: { value: string; context: string }[] = [];
      for (const p of await db().selectFrom('payments').selectAll().where('customer_id', '=', customerId).execute())
        for (const field of ['customer_email', 'customer_name', 'customer_phone', 'metadata_json'] as const)
          if (p[field] !== null) values.push({ value: p[field]!, context: paymentFieldContext(field, p.id) });
      for (const e of await db().selectFrom('events').selectAll().where('customer_id', '=', customerId).execute())
        if (!e.data_json.startsWith('{')) values.push({ value: e.data_json, context: eventDataContext(e.id) });
      return values;
    };

    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      for (const email of emails) await pay(email);
      await pay(emails[0]!);
    });
    after(async () => gw?.close());

    test('a rotation as a job: both versions open midway, a crash resumes, writes land under the new version, retire after', async () => {
      const started = await (await rotation()).rotateCustomers({ mode: 'test' });
      assert.equal(started.finished, false, 'enqueued for the job workers');
      // The job with a crash inside its third batch: two commit (new versions for four of the five
      // customers), the third rolls back with its position.
      gw.services.worker.register(
        KEY_ROTATION_JOB,
        createKeyRotationJob(jobDeps(), {
          beforeCommit: (step) => {
            if (step === 3) throw new Error('injected crash inside a batch');
          },
        }),
      );
      await gw.services.worker.drain();
      const versions = await db().selectFrom('customer_keys').select(['id', 'key_version']).execute();
      assert.ok(
        versions.some((v) => Number(v.key_version) === 2) && versions.some((v) => Number(v.key_version) === 1),
        'midway: some customers rotated, some not',
      );
      const sealedVersions = new Set<number>();
      for (const p of made) sealedVersions.add(keyVersionOf(await storedEmail(p.id))!);
      assert.deepEqual([...sealedVersions].sort(), [1], 'no value re-sealed yet: all under version 1');
      await assertEverythingOpens();

      // A customer already at version 2 pays again during the rotation: sealed under version 2.
      const rotated = versions.find((v) => Number(v.key_version) === 2)!;
      let rotatedEmail = '';
      for (const p of made) if ((await customerOf(p.id)) === rotated.id) rotatedEmail = p.email;
      const during = await pay(rotatedEmail);
      assert.ok((await storedEmail(during)).startsWith('p2.2.'), 'a write during the rotation uses the new version');
      assert.match(
        await keysAtRestStatus(db(), gw.services.keysAtRest),
        /customers \(test\) to new versions, started .*; job queued \(attempt 1, .*last error: injected crash inside a batch/,
      );
      const refused = await (await rotation()).retire('customers', 'test');
      assert.equal(refused.ok, false);
      assert.match(refused.ok ? '' : refused.uses.join('; '), /rotation rot_\w+ of customers test is still running/);
      assert.match(
        refused.ok ? '' : refused.uses.join('; '),
        /\d+ value\(s\) in payments still sealed under a superseded version/,
      );

      // The job runs again after its backoff: every value moves to version 2; the last round waits
      // until a write that read version 1 as current has surely committed.
      gw.services.worker.register(KEY_ROTATION_JOB, createKeyRotationJob(jobDeps()));
      offsetMs += 60_000;
      await gw.services.worker.drain();
      for (const v of await db().selectFrom('customer_keys').select(['id', 'key_version']).execute()) {
        assert.equal(Number(v.key_version), 2, 'every customer at version 2, once');
        for (const { value } of await valuesOf(v.id))
          assert.equal(keyVersionOf(value), 2, 'every value under version 2');
      }
      await assertEverythingOpens();
      await assertNothingInTheClear();
      const rotationRow = () =>
        db().selectFrom('key_rotations').selectAll().where('id', '=', started.rotationId!).executeTakeFirstOrThrow();
      assert.equal((await rotationRow()).finished_at, null, 'one more round due once writes have switched');
      const tooSoon = await (await rotation()).retire('customers', 'test');
      assert.equal(tooSoon.ok, false);
      assert.match(tooSoon.ok ? '' : tooSoon.uses.join('; '), /still running.*superseded less than 2 minutes ago/);
      offsetMs += CUSTOMER_KEY_SWITCH_MS;
      await gw.services.worker.drain();
      assert.notEqual((await rotationRow()).finished_at, null, 'the job finished the rotation');
      assert.match(
        await keysAtRestStatus(db(), gw.services.keysAtRest),
        /test: 5 customer\(s\), newest version v2; values v2 \d+; superseded versions kept 5/,
      );
      const retired = await (await rotation()).retire('customers', 'test');
      assert.deepEqual(retired, { ok: true, retired: 5 });
      assert.deepEqual(await db().selectFrom('customer_key_versions').select('id').execute(), []);
      await assertEverythingOpens();

      const audit = await db().selectFrom('audit_log').selectAll().where('action', 'like', 'keys_at_rest.%').execute();
      assert.deepEqual([...new Set(audit.map((a) => `${a.action}:${a.result}:${a.object_type}`))].sort(), [
        'keys_at_rest.retire:failure:customer_key_versions',
        'keys_at_rest.retire:success:customer_key_versions',
        'keys_at_rest.rotate:success:key_rotation',
        'keys_at_rest.rotated:success:key_rotation',
      ]);
      for (const row of audit)
        for (const { email } of made) assert.ok(!JSON.stringify(row).includes(email), 'audit rows name no one');
    });

    test('two runners of one rotation at once (the job and --wait) never do a batch twice', async () => {
      const started = await (await rotation(1)).rotateCustomers({ mode: 'test' });
      const expected = (await db().selectFrom('customer_keys').select('id').where('erased_at', 'is', null).execute())
        .length;
      const [inline] = await Promise.all([
        (await rotation(1)).rotateCustomers({ mode: 'test' }, { wait: true }),
        gw.services.worker.drain(),
      ]);
      assert.equal(inline.resumed, true);
      assert.equal(inline.finished, false, '--wait leaves the last round to the job');
      const done = await runToTheEnd(started.rotationId!);
      const rows = new Set<string>();
      for (const v of await db().selectFrom('customer_keys').select(['id', 'key_version']).execute()) {
        assert.equal(Number(v.key_version), 3, 'each customer rotated exactly once more');
        for (const { value, context } of await valuesOf(v.id)) {
          assert.equal(keyVersionOf(value), 3);
          rows.add(context.replace(/^payments\.\w+:/, 'payments:'));
        }
      }
      assert.equal(Number(done.rows_done), expected + rows.size, 'each key made once, each row re-sealed once');
      await assertEverythingOpens();
    });

    test('a tampered version number, or a value moved to another row, does not open', async () => {
      const [first, second] = made.filter((p) => p.email === emails[0]);
      const customerId = await customerOf(first!.id);
      // One customer rotated once more, but not re-sealed yet: versions 3 and 4 both kept.
      await db()
        .transaction()
        .execute((trx) => gw.services.privacy.customerKeys.rotate(trx, customerId));
      const keyring = (await gw.services.privacy.customerKeys.load(db(), [customerId])).get(customerId) as Keyring;
      assert.deepEqual([...keyring.keys.keys()].sort(), [2, 3, 4], 'v2 (superseded just now) kept, v1 retired');
      const refused = await (await rotation()).retire('customers', customerId);
      assert.equal(refused.ok, false, 'values of the customer are still under version 3');
      assert.match(
        refused.ok ? '' : refused.uses.join('; '),
        /\d+ value\(s\) in payments still sealed under a superseded version/,
      );
      const value = await storedEmail(first!.id);
      const context = paymentFieldContext('customer_email', first!.id);
      assert.equal(openVersioned(keyring, value, context), emails[0]);
      assert.ok(value.startsWith('p2.3.'));
      assert.throws(
        () => openVersioned(keyring, value.replace(/^p2\.3\./, 'p2.4.'), context),
        /unable to authenticate|Unsupported state/,
      );
      assert.throws(
        () => openVersioned(keyring, value.replace(/^p2\.3\./, 'p2.9.'), context),
        /version 9 is not available/,
      );
      assert.throws(
        () => openVersioned(keyring, value.replace(/^p2\.3\./, 'p2.03.'), context),
        /unsupported sealed value/,
      );
      assert.throws(
        () => openVersioned(keyring, value, paymentFieldContext('customer_email', second!.id)),
        /unable to authenticate|Unsupported state/,
        'moved to another payment of the same customer',
      );
      assert.throws(
        () => openVersioned(keyring, value, paymentFieldContext('customer_name', first!.id)),
        /unable to authenticate|Unsupported state/,
        'moved to another column',
      );
      // Through the API too: the value copied onto the other row makes that row refuse to open.
      const original = await storedEmail(second!.id);
      await db().updateTable('payments').set({ customer_email: value }).where('id', '=', second!.id).execute();
      const read = await gw.api('GET', `/v1/payments/${second!.id}`);
      assert.equal(read.status, 500);
      await db().updateTable('payments').set({ customer_email: original }).where('id', '=', second!.id).execute();
    });

    test('an erasure after a rotation destroys every version: read directly, nothing of the customer opens', async () => {
      const victim = emails[1]!;
      const paymentId = made.find((p) => p.email === victim)!.id;
      const customerId = await customerOf(paymentId);
      // Rotated once more and only partly re-sealed: values under two versions, both kept.
      await db()
        .transaction()
        .execute((trx) => gw.services.privacy.customerKeys.rotate(trx, customerId));
      await pay(victim);
      const values = await valuesOf(customerId);
      assert.deepEqual([...new Set(values.map((v) => keyVersionOf(v.value)))].sort(), [3, 4]);
      const wrappedBefore = [
        ...(await db().selectFrom('customer_keys').select('wrapped_key').where('id', '=', customerId).execute()).map(
          (k) => k.wrapped_key,
        ),
        ...(
          await db()
            .selectFrom('customer_key_versions')
            .select('wrapped_key')
            .where('customer_id', '=', customerId)
            .execute()
        ).map((k) => k.wrapped_key),
      ].filter((k): k is string => k !== null);
      assert.ok(wrappedBefore.length >= 2, 'the current key and the kept versions');
      const erased = await gw.api('POST', '/v1/customers/erase', { email: victim, reason: 'request 7' });
      assert.equal(erased.status, 200);
      assert.deepEqual(erased.body.erased, [customerId]);

      // As an attacker with the database and the master key: every wrapped key left, of any kind.
      const wrapper = gw.services.keysAtRest.wrapper;
      const candidates: Buffer[] = [];
      for (const k of await db().selectFrom('customer_keys').selectAll().execute())
        if (k.wrapped_key !== null)
          candidates.push(wrapper.unwrap(k.wrapped_key, customerKeyContext(k.id, Number(k.key_version)), k.wrapped_by));
      for (const k of await db().selectFrom('customer_key_versions').selectAll().execute())
        candidates.push(wrapper.unwrap(k.wrapped_key, customerKeyContext(k.customer_id, k.version), k.wrapped_by));
      assert.deepEqual(
        await db().selectFrom('customer_key_versions').select('id').where('customer_id', '=', customerId).execute(),
        [],
        'no version of the erased customer is kept',
      );
      const row = await db()
        .selectFrom('customer_keys')
        .selectAll()
        .where('id', '=', customerId)
        .executeTakeFirstOrThrow();
      assert.equal(row.wrapped_key, null);
      // Nor in the bytes: SQLite zeroes freed content (secure_delete), so once the WAL is
      // checkpointed neither the file nor the WAL holds the erased wrapped keys. (PostgreSQL keeps
      // dead tuples until VACUUM: docs/personal-data.md.)
      if (dialect.name === 'sqlite') {
        await sql`pragma wal_checkpoint(TRUNCATE)`.execute(db());
        const bytes = await storedText(gw.services.database, gw.services.config.databaseUrl);
        for (const wrapped of wrappedBefore) assert.ok(!bytes.includes(wrapped), 'an erased wrapped key in the file');
      }
      for (const { value, context } of values) {
        const version = keyVersionOf(value)!;
        for (const key of candidates)
          assert.throws(
            () => openVersioned({ current: version, keys: new Map([[version, key]]) }, value, context),
            `a value under version ${version} opens with no key left in the database`,
          );
      }
      const read = await gw.api('GET', `/v1/payments/${paymentId}`);
      assert.equal(read.body.customer.email, '[erased]');
      for (let i = made.length - 1; i >= 0; i -= 1) if (made[i]!.email === victim) made.splice(i, 1);
      await assertEverythingOpens();
      await assertNothingInTheClear();
    });

    test('payments written throughout a rotation, for customers on either side of it, all end under the newest version', async () => {
      const writers = emails.slice(2);
      const before = made.length;
      let running = true;
      const writing = (async () => {
        for (let i = 0; running; i += 1) await pay(writers[i % writers.length]!);
      })();
      const started = await (await rotation(1)).rotateCustomers({ mode: 'test' });
      for (let i = 0; i < 40 && (await gw.services.worker.processNext()) > 0; i += 1);
      running = false;
      await writing;
      assert.ok(made.length > before, 'payments were written while the batches ran');
      await runToTheEnd(started.rotationId!);
      for (const c of await db()
        .selectFrom('customer_keys')
        .select(['id', 'key_version'])
        .where('erased_at', 'is', null)
        .execute())
        for (const { value } of await valuesOf(c.id))
          assert.equal(keyVersionOf(value), Number(c.key_version), "every value under its customer's newest version");
      await assertEverythingOpens();
      await assertNothingInTheClear();
    });
  });
}
