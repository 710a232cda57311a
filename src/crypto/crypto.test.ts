import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createFieldCipher } from './encryption.ts';
import { constantTimeEqual } from './compare.ts';
import { Secret } from './secret.ts';
import { newId, isId } from '../ids.ts';
import { createLogger } from '../log.ts';

const masterKey = () => new Secret(randomBytes(32).toString('base64'));

test('field encryption: AES-256-GCM round trip, fresh nonce each time, bound to its row', () => {
  const cipher = createFieldCipher(masterKey());
  const sealed = cipher.encrypt('whsec_value', 'we_1');
  assert.match(sealed, /^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
  assert.notEqual(cipher.encrypt('whsec_value', 'we_1'), sealed, 'a new nonce per encryption');
  assert.equal(cipher.decrypt(sealed, 'we_1'), 'whsec_value');
  assert.throws(() => cipher.decrypt(sealed, 'we_2'), 'moved to another row, it no longer opens');
  const [v, nonce, body, tag] = sealed.split('.');
  const flipped = Buffer.from(body!, 'base64url');
  flipped[0]! ^= 1;
  assert.throws(
    () => cipher.decrypt([v, nonce, flipped.toString('base64url'), tag].join('.'), 'we_1'),
    'tampering is detected',
  );
  assert.throws(() => createFieldCipher(masterKey()).decrypt(sealed, 'we_1'), 'another master key cannot open it');
});

test('constant-time equality gives the right answers for equal, different and different-length inputs', () => {
  assert.equal(constantTimeEqual('abc', 'abc'), true);
  assert.equal(constantTimeEqual('abc', 'abd'), false);
  assert.equal(constantTimeEqual('abc', 'abcd'), false);
  assert.equal(constantTimeEqual('', ''), true);
});

test('ids: prefixed, 22 base62 characters, unique, not sequential, roughly time-ordered', () => {
  const ids = Array.from({ length: 10_000 }, () => newId('pay'));
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids.slice(0, 100)) assert.ok(isId('pay', id), id);
  const a = newId('evt', 1_800_000_000_000);
  const b = newId('evt', 1_800_000_000_001);
  assert.ok(a < b, 'later ids sort after earlier ones');
  assert.notEqual(a.slice(-15), b.slice(-15), 'the random part is random');
});

test('logs never contain secrets: the wrapper and the redaction paths', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('info', sink);
  // Generated at run time: nothing secret-shaped is written in the repository.
  const [wrapped, header, nested] = [0, 1, 2].map(() => randomBytes(12).toString('hex'));
  logger.info(
    {
      config: { apiKey: new Secret(wrapped!) },
      headers: { authorization: `Bearer ${header}` },
      secretHash: 'hidden-hash',
    },
    'hello',
  );
  logger.info({ req: { headers: { authorization: `Bearer ${nested}`, 'verif-hash': 'vh-hidden' } } }, 'request');
  const out = lines.join('');
  for (const leaked of [wrapped!, header!, 'hidden-hash', nested!, 'vh-hidden'])
    assert.ok(!out.includes(leaked), `${leaked} leaked: ${out}`);
  assert.match(out, /\[redacted\]/);
});
