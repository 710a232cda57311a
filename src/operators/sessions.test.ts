import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../clock.ts';
import { testDialects, openTestDatabase } from '../../test/helpers/databases.ts';
import { createSessionStore, MAX_ABSOLUTE_TIMEOUT_MS, MAX_IDLE_TIMEOUT_MS } from './sessions.ts';
import { operatorObjectId } from './ids.ts';
import { operatorDb } from './schema.ts';
import { insertTestOperator } from './testing.ts';

const MINUTE = 60_000;

for (const dialect of await testDialects()) {
  describe(`operator sessions on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());
    const store = (options: { idleTimeoutMs?: number; absoluteTimeoutMs?: number } = {}) => {
      const clock = manualClock();
      return { clock, sessions: createSessionStore({ db: database.db, clock, ...options }) };
    };
    const setup = async (options: { idleTimeoutMs?: number; absoluteTimeoutMs?: number } = {}) => ({
      ...store(options),
      operatorId: await insertTestOperator(database.db),
    });
    const liveRows = (operatorId: string) =>
      operatorDb(database.db)
        .selectFrom('operator_sessions')
        .selectAll()
        .where('operator_id', '=', operatorId)
        .where('ended_at', 'is', null)
        .execute();

    test('a token is <id>.<256-bit secret>, only its hash is stored, and it validates', async () => {
      const { sessions, operatorId } = await setup();
      const { token, session } = await sessions.create(operatorId, { ip: '192.0.2.7' });
      const [id, secret] = token.split('.');
      assert.match(id!, /^ses_[0-9A-Za-z]{22}$/);
      assert.equal(Buffer.from(secret!, 'base64url').length, 32);
      const row = await operatorDb(database.db)
        .selectFrom('operator_sessions')
        .selectAll()
        .where('id', '=', id!)
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(secret!), 'the secret is not stored');
      assert.match(row.token_hash, /^[0-9a-f]{64}$/);
      assert.deepEqual(await sessions.validate(token), { ok: true, session });
    });

    test('a wrong secret, an unknown id and malformed tokens are invalid, saying nothing more', async () => {
      const { sessions, operatorId } = await setup();
      const { token } = await sessions.create(operatorId);
      const last = token.at(-1) === 'A' ? 'B' : 'A';
      for (const bad of [
        token.slice(0, -1) + last,
        `${operatorObjectId('ses')}.${token.split('.')[1]}`,
        token.slice(0, -1),
        '',
        'ses_x.y',
        `${token}.extra`,
      ]) {
        assert.deepEqual(await sessions.validate(bad), { ok: false, reason: 'invalid' }, bad);
      }
      await sessions.end(token.split('.')[0]!, 'logout');
      assert.deepEqual(
        await sessions.validate(token.slice(0, -1) + last),
        { ok: false, reason: 'invalid' },
        'the end reason needs the right secret',
      );
    });

    test('idle timeout: activity keeps it alive; 15 minutes without any ends it', async () => {
      const { clock, sessions, operatorId } = await setup();
      const { token } = await sessions.create(operatorId);
      for (let i = 0; i < 5; i += 1) {
        clock.advance(14 * MINUTE);
        assert.equal((await sessions.validate(token)).ok, true, `after ${(i + 1) * 14} minutes of activity`);
      }
      clock.advance(15 * MINUTE);
      assert.deepEqual(await sessions.validate(token), { ok: false, reason: 'idle_timeout' });
      clock.set(clock.nowMs() - 15 * MINUTE);
      assert.deepEqual(
        await sessions.validate(token),
        { ok: false, reason: 'idle_timeout' },
        'ended server-side for good',
      );
    });

    test('absolute timeout: 10 hours after sign-in, however active', async () => {
      const { clock, sessions, operatorId } = await setup();
      const { token } = await sessions.create(operatorId);
      for (let elapsed = 10 * MINUTE; elapsed < 10 * 60 * MINUTE; elapsed += 10 * MINUTE) {
        clock.advance(10 * MINUTE);
        assert.equal((await sessions.validate(token)).ok, true, `at ${elapsed / MINUTE} min`);
      }
      clock.advance(10 * MINUTE);
      assert.deepEqual(await sessions.validate(token), { ok: false, reason: 'absolute_timeout' });
    });

    test('timeouts can be shortened but never lengthened', async () => {
      assert.throws(() => store({ idleTimeoutMs: MAX_IDLE_TIMEOUT_MS + 1 }), RangeError);
      assert.throws(() => store({ absoluteTimeoutMs: MAX_ABSOLUTE_TIMEOUT_MS + 1 }), RangeError);
      assert.throws(() => store({ idleTimeoutMs: 0 }), RangeError);
      assert.throws(() => store({ idleTimeoutMs: Number.NaN }), RangeError);
      const { clock, sessions, operatorId } = await setup({
        idleTimeoutMs: 5 * MINUTE,
        absoluteTimeoutMs: 60 * MINUTE,
      });
      const { token } = await sessions.create(operatorId);
      clock.advance(5 * MINUTE);
      assert.deepEqual(await sessions.validate(token), { ok: false, reason: 'idle_timeout' });
    });

    test('one session per operator: a new sign-in ends the old one, which then reports `replaced`', async () => {
      const { sessions, operatorId } = await setup();
      const first = await sessions.create(operatorId);
      const second = await sessions.create(operatorId);
      assert.deepEqual(await sessions.validate(first.token), { ok: false, reason: 'replaced' });
      assert.equal((await sessions.validate(second.token)).ok, true);
      assert.equal((await liveRows(operatorId)).length, 1);
      const other = await sessions.create(await insertTestOperator(database.db));
      assert.equal((await sessions.validate(other.token)).ok, true, 'other operators are unaffected');
      assert.equal((await sessions.validate(second.token)).ok, true);
    });

    test('racing sign-ins still leave exactly one live session', async () => {
      const { sessions, operatorId } = await setup();
      await Promise.all(Array.from({ length: 5 }, () => sessions.create(operatorId)));
      assert.equal((await liveRows(operatorId)).length, 1);
    });

    test('logout ends the session on the server; the token is then useless', async () => {
      const { sessions, operatorId } = await setup();
      const { token, session } = await sessions.create(operatorId);
      assert.equal(await sessions.end(session.id, 'logout'), true);
      assert.deepEqual(await sessions.validate(token), { ok: false, reason: 'logout' });
      assert.equal(await sessions.end(session.id, 'logout'), false, 'ending twice changes nothing');
      assert.equal(await sessions.endAllFor(operatorId, 'disabled'), 0);
      await assert.rejects(sessions.create(operatorObjectId('op')), /no such operator/);
    });

    test('requireFresh: within 5 minutes of entering the password, and again after re-authentication', async () => {
      const { clock, sessions, operatorId } = await setup();
      const { token } = await sessions.create(operatorId);
      const check = async () => {
        const result = await sessions.validate(token);
        assert.ok(result.ok);
        return result.session;
      };
      assert.deepEqual(sessions.requireFresh(await check()), { ok: true });
      clock.advance(5 * MINUTE + 1);
      assert.deepEqual(sessions.requireFresh(await check()), { ok: false, reason: 'reauthentication_required' });
      assert.deepEqual(sessions.requireFresh(await check(), 10 * MINUTE), { ok: true });
      await sessions.markReauthenticated((await check()).id);
      assert.deepEqual(sessions.requireFresh(await check()), { ok: true });
    });

    test("the CSRF token belongs to its session: right one passes, another session's or none fails", async () => {
      const { sessions, operatorId } = await setup();
      const { token, csrfToken } = await sessions.create(operatorId);
      assert.equal(sessions.csrfTokenFor(token), csrfToken);
      assert.match(csrfToken, /^[\w-]{43}$/);
      assert.ok(!token.includes(csrfToken));
      assert.equal(sessions.verifyCsrf(token, csrfToken), true);
      const other = await sessions.create(await insertTestOperator(database.db));
      assert.equal(sessions.verifyCsrf(token, other.csrfToken), false);
      assert.equal(sessions.verifyCsrf(token, ''), false);
      assert.equal(sessions.verifyCsrf('garbage', ''), false);
      assert.equal(sessions.csrfTokenFor('garbage'), undefined);
    });
  });
}
