// The CSPRNG pool (random-pool.ts): every nonce is fresh across many refills, each caller gets its
// own copy, lengths are exact, and the bytes look uniform (a loose check that would catch a pool
// handed out twice or never refilled, not a test of the generator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pooledRandomByte, pooledRandomBytes } from './random-pool.ts';

test('nonces are never repeated across refills of the pool, and each is the caller’s own copy', () => {
  const seen = new Set<string>();
  // 12-byte nonces, 5,000 of them: about fifteen refills of the 4 KiB pool.
  for (let i = 0; i < 5_000; i += 1) {
    const nonce = pooledRandomBytes(12);
    assert.equal(nonce.length, 12);
    const hex = nonce.toString('hex');
    assert.ok(!seen.has(hex), 'a nonce was handed out twice');
    seen.add(hex);
    nonce.fill(0);
  }
  const next = pooledRandomBytes(12);
  assert.notEqual(next.toString('hex'), '000000000000000000000000', 'zeroing a copy did not reach the pool');
});

test('odd lengths, single bytes and lengths beyond the pool all come out exact', () => {
  for (const length of [1, 7, 12, 33, 1024, 5000, 70_000]) assert.equal(pooledRandomBytes(length).length, length);
  for (let i = 0; i < 10_000; i += 1) {
    const byte = pooledRandomByte();
    assert.ok(Number.isInteger(byte) && byte >= 0 && byte <= 255);
  }
});

test('bytes are spread evenly over 0-255', () => {
  const counts = new Array<number>(256).fill(0);
  const draws = 256 * 400;
  for (let i = 0; i < draws / 16; i += 1) for (const byte of pooledRandomBytes(16)) counts[byte]! += 1;
  // Chi-square with 255 degrees of freedom: above 400 happens with odds far below one in a million.
  const expected = draws / 256;
  const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 400, `chi-square ${chiSquare.toFixed(0)}`);
});
