// The test vectors in docs/receipts/README.md, checked against the gateway's canonical JSON and
// signer and against the merchants' helper (docs/receipts/verify-receipt.mjs): both must produce
// the documented bytes and signatures, accept the vectors and refuse any change to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Secret } from '../crypto/secret.ts';
import { canonicalJson, type CanonicalValue } from './canonical-json.ts';
import { receiptSignature, verifyReceipt, type ReceiptBody } from './receipts.ts';
// @ts-expect-error: a plain .mjs file for merchants, without type declarations
import * as helper from '../../docs/receipts/verify-receipt.mjs';

const doc = readFileSync(new URL('../../docs/receipts/README.md', import.meta.url), 'utf8');
const block = (tag: string) => {
  const found = new RegExp(`\`\`\`\\w+ ${tag}\\n([^\\n]*)\\n\`\`\``).exec(doc)?.[1];
  assert.ok(found !== undefined, `docs/receipts/README.md has the ${tag} block`);
  return found;
};
const keyBase64 = /Key \(base64; an example, not a secret\): `([^`]+)`/.exec(doc)?.[1] ?? '';
const signatures = [...doc.matchAll(/Signature: `([0-9a-f]{64})`/g)].map((m) => m[1]!);
const h = helper as {
  canonicalJson(v: unknown): string;
  receiptSignature(r: unknown, k: string): string;
  verifyReceipt(s: unknown, keys: Record<string, string>): boolean;
};

for (const [index, n] of [1, 2].entries()) {
  test(`receipt test vector ${n}: documented canonical JSON and signature, both implementations`, async () => {
    const receipt = JSON.parse(block(`vector-${n}`)) as ReceiptBody;
    const canonical = block(`canonical-${n}`);
    const signature = signatures[index]!;
    assert.equal(canonicalJson(receipt as unknown as CanonicalValue), canonical);
    assert.equal(h.canonicalJson(receipt), canonical);
    assert.equal(receiptSignature(receipt, { secret: new Secret(keyBase64) }), signature);
    assert.equal(h.receiptSignature(receipt, keyBase64), signature);

    const keys = { [receipt.key_id]: keyBase64 };
    assert.equal(h.verifyReceipt({ receipt, signature }, keys), true);
    const gatewayCheck = await verifyReceipt({ receipt, signature }, async (id) =>
      id === receipt.key_id ? { secret: new Secret(keyBase64), mode: 'test' } : undefined,
    );
    assert.deepEqual(gatewayCheck, { ok: true, keyId: receipt.key_id });

    // Any change to what is signed, a flipped signature digit, or another key: refused by both.
    for (const changed of [
      { ...receipt, amount: Number(receipt.amount) + 1 },
      { ...receipt, currency: 'USD' },
      { ...receipt, extra: 'x' },
    ]) {
      assert.equal(h.verifyReceipt({ receipt: changed, signature }, keys), false);
      const check = await verifyReceipt({ receipt: changed, signature }, async () => ({
        secret: new Secret(keyBase64),
        mode: 'test',
      }));
      assert.deepEqual(check, { ok: false, reason: 'bad_signature' });
    }
    const flipped = `${signature[0] === '0' ? '1' : '0'}${signature.slice(1)}`;
    assert.equal(h.verifyReceipt({ receipt, signature: flipped }, keys), false);
    assert.equal(
      h.verifyReceipt({ receipt, signature }, { [receipt.key_id]: Buffer.alloc(32).toString('base64') }),
      false,
    );
    assert.equal(h.verifyReceipt({ receipt, signature }, {}), false, 'an unknown key id');
    assert.equal(h.verifyReceipt({ receipt, signature: signature.toUpperCase() }, keys), false);
    assert.equal(h.verifyReceipt(null, keys), false);
  });
}

test('canonical JSON refuses what two implementations could serialise differently', () => {
  assert.throws(() => canonicalJson(1.5));
  assert.throws(() => h.canonicalJson(1.5));
  assert.equal(canonicalJson({ b: [2, { d: null, c: true }], a: 'x' }), '{"a":"x","b":[2,{"c":true,"d":null}]}');
});
