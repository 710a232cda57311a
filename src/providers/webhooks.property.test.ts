// WHI-1, WHI-7 as properties (fast-check), for every provider: a delivery signed with the secret
// verifies and any change to one byte of it does not; a wrong secret never verifies; arbitrary
// bytes and headers are refused with a reason and never throw; the parsers never throw on any
// input, and whatever they accept has a bounded dedupe key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Secret } from '../crypto/secret.ts';
import type { ProviderWebhookHandler } from './types.ts';
import { createFlutterwaveWebhookHandler, flutterwaveSignature } from './flutterwave/webhook.ts';
import { createPaystackWebhookHandler, paystackSignature } from './paystack/webhook.ts';
import { createStripeWebhookHandler, stripeSignature } from './stripe/webhook.ts';
import { createKwikPaisaWebhookHandler } from './kwikpaisa/webhook.ts';
import { kwikPaisaSignature } from './kwikpaisa/signing.ts';

const NOW_MS = 1_780_000_000_000;
const clock = { nowMs: () => NOW_MS };
const ts = String(Math.floor(NOW_MS / 1000));

interface Kit {
  readonly name: string;
  handler(secret: string): ProviderWebhookHandler;
  sign(body: Buffer, secret: string): Record<string, string>;
}

const KITS: readonly Kit[] = [
  {
    name: 'flutterwave',
    handler: (secret) => createFlutterwaveWebhookHandler([{ mode: 'test', secretHash: new Secret(secret) }]),
    sign: (body, secret) => ({ 'flutterwave-signature': flutterwaveSignature(body, secret) }),
  },
  {
    name: 'paystack',
    handler: (secret) => createPaystackWebhookHandler([{ mode: 'test', secretKey: new Secret(secret) }]),
    sign: (body, secret) => ({ 'x-paystack-signature': paystackSignature(body, secret) }),
  },
  {
    name: 'stripe',
    handler: (secret) => createStripeWebhookHandler([{ mode: 'test', secret: new Secret(secret) }], clock),
    sign: (body, secret) => ({ 'stripe-signature': `t=${ts},v1=${stripeSignature(body, ts, secret)}` }),
  },
  {
    name: 'kwikpaisa',
    handler: (secret) => createKwikPaisaWebhookHandler([{ mode: 'test', secretKey: new Secret(secret) }], clock),
    sign: (body, secret) => ({ 'x-signature': kwikPaisaSignature(body, ts, secret), 'x-timestamp': ts }),
  },
];

const secretArb = fc.string({ minLength: 16, maxLength: 64, unit: 'grapheme-ascii' });
// Bodies that are not JSON: KwikPaisa also accepts canonical re-serialisations of JSON bodies, so
// a one-byte change to a JSON body can be one its canonical form does not see (whitespace).
const bodyArb = fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => Buffer.from([0xff, ...bytes]));
const headerArb = fc.dictionary(
  fc.constantFrom(
    'flutterwave-signature',
    'verif-hash',
    'x-paystack-signature',
    'stripe-signature',
    'x-signature',
    'x-timestamp',
    'content-type',
  ),
  fc.oneof(fc.string({ maxLength: 200 }), fc.array(fc.string({ maxLength: 50 }), { maxLength: 3 })),
);

for (const kit of KITS) {
  test(`${kit.name}: a signed body verifies; one flipped byte or another secret does not`, () => {
    fc.assert(
      fc.property(
        bodyArb,
        secretArb,
        secretArb,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (body, secret, other, at, xor) => {
          const handler = kit.handler(secret);
          const headers = kit.sign(body, secret);
          assert.equal(handler.verifySignature(body, headers).ok, true);
          const changed = Buffer.from(body);
          const index = at % changed.length;
          changed[index] = (changed[index] as number) ^ xor;
          assert.equal(handler.verifySignature(changed, headers).ok, false);
          if (other !== secret) assert.equal(handler.verifySignature(body, kit.sign(body, other)).ok, false);
        },
      ),
      { numRuns: 200 },
    );
  });

  test(`${kit.name}: arbitrary bytes and headers are refused with a reason, never thrown on`, () => {
    const handler = kit.handler('a-secret-of-sixteen-chars');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), headerArb, (bytes, headers) => {
        const check = handler.verifySignature(Buffer.from(bytes), headers);
        if (!check.ok) assert.ok(typeof check.reason === 'string' && check.reason.length > 0);
        else assert.fail('an unsigned delivery verified');
      }),
      { numRuns: 300 },
    );
  });

  test(`${kit.name}: the parser never throws, on bytes or on any JSON, and bounds what it accepts`, () => {
    const handler = kit.handler('a-secret-of-sixteen-chars');
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
      fc.jsonValue({ maxDepth: 6 }).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
      // Shapes close to the real ones, with hostile values in the fields.
      fc
        .record({
          event: fc.oneof(
            fc.constantFrom('charge.completed', 'charge.success', 'payment.success', 'checkout.session.completed'),
            fc.string(),
          ),
          type: fc.oneof(fc.constantFrom('checkout.session.completed', 'charge.succeeded'), fc.string()),
          id: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
          data: fc.dictionary(
            fc.constantFrom(
              'id',
              'tx_ref',
              'reference',
              'order_id',
              'status',
              'amount',
              'currency',
              'object',
              '__proto__',
            ),
            fc.jsonValue({ maxDepth: 3 }),
          ),
        })
        .map((v) => Buffer.from(JSON.stringify(v))),
    );
    fc.assert(
      fc.property(inputs, (body) => {
        const parsed = handler.parse(body, { 'x-timestamp': ts });
        if (parsed.ok) {
          assert.ok(parsed.event.dedupeKey.length > 0 && parsed.event.dedupeKey.length <= 512, parsed.event.dedupeKey);
          assert.equal(typeof parsed.event.eventType, 'string');
        } else assert.equal(typeof parsed.reason, 'string');
      }),
      { numRuns: 500 },
    );
  });
}
