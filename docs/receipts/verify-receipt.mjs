// Verifies a Paywarden receipt (docs/receipts/README.md). No dependencies: copy this file into your
// backend (Node 18 or later). Usage:
//
//   import { verifyReceipt } from './verify-receipt.mjs';
//   const ok = verifyReceipt(await response.json(), { rk_...: process.env.PAYWARDEN_RECEIPT_KEY });
//
// `keys` maps each receipt key id you were given to its secret (base64). Returns true only for a
// receipt signed by one of those keys, with a signature compared in constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** JSON with object keys sorted (by UTF-16 code units), no whitespace: what the gateway signs. */
export function canonicalJson(value) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError('receipts hold integers only');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`)
      .join(',')}}`;
  }
  throw new TypeError(`receipts cannot hold a ${typeof value}`);
}

export function receiptSignature(receipt, secretBase64) {
  return createHmac('sha256', Buffer.from(secretBase64, 'base64')).update(canonicalJson(receipt), 'utf8').digest('hex');
}

export function verifyReceipt(signed, keys) {
  if (signed === null || typeof signed !== 'object') return false;
  const { receipt, signature } = signed;
  if (receipt === null || typeof receipt !== 'object' || Array.isArray(receipt)) return false;
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  const secret = Object.hasOwn(keys, receipt.key_id) ? keys[receipt.key_id] : undefined;
  if (typeof secret !== 'string') return false;
  let expected;
  try {
    expected = receiptSignature(receipt, secret);
  } catch {
    return false;
  }
  return timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(signature, 'hex'));
}
