// One contract for every provider's verify answer: a successful answer whose currency is missing,
// unknown or not a string, or whose amount is missing or cannot be read exactly, is still read
// (never thrown: a throw makes the verification job retry until it is dead), and what it yields
// differs from the order, so verification flags it as a mismatch (requires_review), never success.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { compareWithPayment } from '../payments/verification.ts';
import type { VerifiedTransaction } from './types.ts';
import { parseVerifyResponse as parseFlutterwaveVerify } from './flutterwave/transformers.ts';
import { parseOrderStatusResponse } from './kwikpaisa/transformers.ts';
import { parseVerifyResponse as parsePaystackVerify } from './paystack/transformers.ts';
import { parseRetrieveSessionResponse } from './stripe/transformers.ts';

type Fields = Record<string, unknown>;
const fixture = (provider: string, name: string): Fields =>
  JSON.parse(readFileSync(new URL(`./${provider}/fixtures/${name}`, import.meta.url), 'utf8')) as Fields;

/** `undefined` in the changes removes the field, as a provider that leaves it out would. */
function edit(record: Fields, changes: Fields): Fields {
  const out: Fields = { ...record };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

interface ProviderCase {
  readonly name: string;
  /** The order the answer is about, as the payments table holds it. */
  readonly payment: { readonly id: string; readonly currency: string; readonly amount_minor: number };
  /** The wire names of the answer's currency and amount fields. */
  readonly fields: { readonly currency: string; readonly amount: string };
  /** Parses a successful verify answer whose payload is changed by `changes`. */
  read(changes: Fields): { kind: string; transaction?: VerifiedTransaction };
}

const flutterwaveAnswer = fixture('flutterwave', 'verify-success.json');
const paystackAnswer = fixture('paystack', 'verify-success.json');
const kwikpaisaData: Fields = {
  kwikX_order_id: 'kp_40dec464',
  order_id: 'pay_kwik1',
  order_amount: '105.00',
  currency: 'INR',
  order_status: 'PAID',
  transaction_id: 'TXN938482920',
};
const stripeSession: Fields = {
  id: 'cs_test_1',
  object: 'checkout.session',
  status: 'complete',
  payment_status: 'paid',
  amount_total: 2500,
  currency: 'usd',
  client_reference_id: 'pay_stripe1',
};

const CASES: readonly ProviderCase[] = [
  {
    name: 'flutterwave',
    payment: { id: 'pay_0123456789abcdefghijkl', currency: 'NGN', amount_minor: 7550 },
    fields: { currency: 'currency', amount: 'amount' },
    read: (changes) =>
      parseFlutterwaveVerify(
        200,
        JSON.stringify({ ...flutterwaveAnswer, data: edit(flutterwaveAnswer.data as Fields, changes) }),
      ),
  },
  {
    name: 'paystack',
    payment: { id: 'pay_0123456789abcdefghijkl', currency: 'NGN', amount_minor: 40333 },
    fields: { currency: 'currency', amount: 'amount' },
    // The merchant-bears-the-fees form (no requested_amount: data.amount is the order); the
    // customer-bears form is tested in paystack/paystack.test.ts.
    read: (changes) =>
      parsePaystackVerify(
        200,
        JSON.stringify({
          ...paystackAnswer,
          data: edit(edit(paystackAnswer.data as Fields, { requested_amount: undefined }), changes),
        }),
      ),
  },
  {
    name: 'kwikpaisa',
    payment: { id: 'pay_kwik1', currency: 'INR', amount_minor: 10500 },
    fields: { currency: 'currency', amount: 'order_amount' },
    read: (changes) =>
      parseOrderStatusResponse(
        200,
        JSON.stringify({
          code: '200',
          status: 'success',
          message: 'Order status fetched successfully.',
          return_data: edit(kwikpaisaData, changes),
        }),
      ),
  },
  {
    name: 'stripe',
    payment: { id: 'pay_stripe1', currency: 'USD', amount_minor: 2500 },
    fields: { currency: 'currency', amount: 'amount_total' },
    read: (changes) => parseRetrieveSessionResponse(200, JSON.stringify(edit(stripeSession, changes))),
  },
];

// Left out, null, empty, not a string, a code nobody uses, a code without a minor unit (XXX is
// "no currency"), and a word.
const UNUSABLE_CURRENCIES: readonly unknown[] = [undefined, null, '', 566, 'XYZ', 'XXX', 'naira'];
// Left out, null, words, beyond any safe integer, negative, a structure.
const UNUSABLE_AMOUNTS: readonly unknown[] = [undefined, null, 'forty', '1e400', -5, { value: 1 }];

for (const provider of CASES) {
  describe(`${provider.name} verify answers`, () => {
    const found = (changes: Fields): VerifiedTransaction => {
      const parsed = provider.read(changes);
      assert.equal(parsed.kind, 'found', JSON.stringify(changes));
      assert.ok(parsed.transaction !== undefined);
      return parsed.transaction;
    };

    test('the unchanged answer matches its order (so the cases below test only what they change)', () => {
      const tx = found({});
      assert.equal(tx.status, 'succeeded');
      assert.deepEqual(compareWithPayment(provider.payment, tx), []);
    });

    test('a missing or unusable currency is read, not thrown, and is a currency mismatch', () => {
      for (const currency of UNUSABLE_CURRENCIES) {
        const tx = found({ [provider.fields.currency]: currency });
        assert.equal(tx.status, 'succeeded', 'the provider said success: only the comparison may refuse it');
        const mismatches = compareWithPayment(provider.payment, tx);
        assert.ok(mismatches.includes('currency'), `${JSON.stringify(currency)}: ${JSON.stringify(mismatches)}`);
      }
    });

    test('a missing or unreadable amount is read, not thrown, and is an amount mismatch', () => {
      for (const amount of UNUSABLE_AMOUNTS) {
        const tx = found({ [provider.fields.amount]: amount });
        assert.equal(tx.amountMinor, undefined, JSON.stringify(amount));
        assert.deepEqual(compareWithPayment(provider.payment, tx), ['amount'], JSON.stringify(amount));
      }
    });
  });
}
