// API-5: the canonical string and HMAC as documented (the vectors in docs/api-keys.md are what the
// code computes, and an independent computation agrees), and the replay store on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { canonicalString, createSignatureVerifier, signRequest } from './request-signing.ts';
import { EXAMPLE_SIGNING_SECRET, renderSigningVectors, SIGNING_VECTORS } from './signing-vectors.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';

test('docs/api-keys.md carries the vectors the code computes (node scripts/gen-signing-vectors.ts)', () => {
  const doc = readFileSync(new URL('../../docs/api-keys.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(renderSigningVectors()), 'regenerate the vectors into docs/api-keys.md');
});

test('the canonical string is timestamp, method, path with query and the body digest, one per line', () => {
  const v = SIGNING_VECTORS[1];
  const digest = createHash('sha256').update(v.body).digest('hex');
  assert.equal(canonicalString(v), `${v.timestamp}\nPOST\n/v1/payouts\n${digest}`);
  const independent = createHmac('sha256', EXAMPLE_SIGNING_SECRET)
    .update(`${v.timestamp}\nPOST\n/v1/payouts\n${digest}`)
    .digest('hex');
  assert.equal(signRequest(EXAMPLE_SIGNING_SECRET, v), independent);
  assert.equal(
    canonicalString(SIGNING_VECTORS[0]).split('\n')[3],
    'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    'an empty body hashes to the SHA-256 of nothing',
  );
});

for (const dialect of await testDialects()) {
  describe(`signature verification on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());

    test('good once; then replayed; bad, malformed, stale (either side of 300 s) refused; expired entries purged', async () => {
      const clock = manualClock(Date.UTC(2026, 0, 1));
      const verifier = createSignatureVerifier({ db: database.db, clock });
      const secret = 'whsk_unit_test_secret';
      const now = String(Math.floor(clock.nowMs() / 1000));
      const request = { method: 'POST', pathWithQuery: '/v1/payments?x=1', body: Buffer.from('{"a":1}') };
      const check = (timestamp: string, signature: string | undefined, keySecret = secret, body = request.body) =>
        verifier.verify({ apiKeyId: 'key_a', secret: new Secret(keySecret), timestamp, signature, ...request, body });
      const good = signRequest(secret, { ...request, timestamp: now });
      assert.deepEqual(await check(now, good), { ok: true });
      assert.deepEqual(await check(now, good), { ok: false, code: 'signature_replayed' });
      const fresh = String(Number(now) + 1);
      const other = signRequest(secret, { ...request, timestamp: fresh });
      assert.deepEqual(await check(fresh, other, 'whsk_another_secret'), { ok: false, code: 'signature_invalid' });
      assert.deepEqual(await check(fresh, other, secret, Buffer.from('{"a":2}')), {
        ok: false,
        code: 'signature_invalid',
      });
      assert.deepEqual(await check(now, good.toUpperCase()), { ok: false, code: 'signature_invalid' });
      assert.deepEqual(await check('12.5', good), { ok: false, code: 'signature_invalid' });
      assert.deepEqual(await check(now, undefined), { ok: false, code: 'signature_required' });
      for (const offset of [-301, 301]) {
        const ts = String(Number(now) + offset);
        assert.deepEqual(await check(ts, signRequest(secret, { ...request, timestamp: ts })), {
          ok: false,
          code: 'signature_expired',
        });
      }
      const edge = String(Number(now) - 300);
      assert.deepEqual(await check(edge, signRequest(secret, { ...request, timestamp: edge })), { ok: true });
      const count = async () =>
        Number(
          (
            await database.db
              .selectFrom('request_signatures')
              .select((eb) => eb.fn.countAll().as('n'))
              .executeTakeFirstOrThrow()
          ).n,
        );
      assert.equal(await count(), 2);
      clock.advance(301_000);
      assert.equal(await verifier.purgeExpired(), 1, 'the edge signature has left its window');
      clock.advance(300_000);
      assert.equal(await verifier.purgeExpired(), 1);
      assert.equal(await count(), 0);
    });
  });
}
