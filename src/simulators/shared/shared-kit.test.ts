import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { createSimulatorGate, sameSecret } from './api-gate.ts';
import { takeAnswerFaults, withAnswerFaults } from './answer-faults.ts';
import { createFaultStore, parseFaultRequest } from './faults.ts';

function addFault(store: ReturnType<typeof createFaultStore>, body: Record<string, unknown>) {
  const parsed = parseFaultRequest(body, ['tx_ref']);
  assert.ok(parsed.ok);
  store.add(parsed.fault);
}

test('the shared gate checks the key before any fault: a fault is not a way in, and a wrong key leaves it unused', async () => {
  const faults = createFaultStore();
  const gate = createSimulatorGate({
    faults,
    authenticate: (request) =>
      sameSecret(request.headers.authorization ?? '', 'Bearer sk_test_example')
        ? undefined
        : { status: 401, body: { error: 'bad key' } },
    faultBody: (status) => ({ error: `fault ${status}` }),
  });
  const app = Fastify();
  app.get<{ Querystring: { ref?: string } }>('/thing', async (request, reply) => {
    if (!(await gate.pass(request, reply, request.query.ref))) return reply;
    return { ok: true };
  });
  addFault(faults, { fault: 'http_429', tx_ref: 'a', value: 7 });
  const wrongKey = await app.inject({ url: '/thing?ref=a', headers: { authorization: 'Bearer nope' } });
  assert.equal(wrongKey.statusCode, 401);
  assert.deepEqual(wrongKey.json(), { error: 'bad key' });
  const other = await app.inject({ url: '/thing?ref=b', headers: { authorization: 'Bearer sk_test_example' } });
  assert.equal(other.statusCode, 200, 'a fault aimed at one reference leaves the others alone');
  const faulted = await app.inject({ url: '/thing?ref=a', headers: { authorization: 'Bearer sk_test_example' } });
  assert.equal(faulted.statusCode, 429, 'the 401 did not use the fault up');
  assert.equal(faulted.headers['retry-after'], '7');
  assert.deepEqual(faulted.json(), { error: 'fault 429' });
  const after = await app.inject({ url: '/thing?ref=a', headers: { authorization: 'Bearer sk_test_example' } });
  assert.equal(after.statusCode, 200);
  await app.close();
});

test('answer faults work on integer minor units with the currency exponent: 1 major unit is 100 kobo but 1 yen', () => {
  const faults = createFaultStore();
  addFault(faults, { fault: 'wrong_amount', tx_ref: 'n' });
  assert.equal(takeAnswerFaults(faults, 'n', { amountMinor: 7550, currency: 'NGN' }).amountMinor, 7450);
  addFault(faults, { fault: 'wrong_amount', tx_ref: 'j' });
  assert.equal(takeAnswerFaults(faults, 'j', { amountMinor: 500, currency: 'JPY' }).amountMinor, 499);
  addFault(faults, { fault: 'wrong_amount', tx_ref: 'k', value: 0.5 });
  assert.equal(takeAnswerFaults(faults, 'k', { amountMinor: 10_000, currency: 'KWD' }).amountMinor, 9_500);
  addFault(faults, { fault: 'wrong_amount', value: 500 });
  assert.equal(takeAnswerFaults(faults, 'x', { amountMinor: 100, currency: 'NGN' }).amountMinor, 0, 'never below 0');

  addFault(faults, { fault: 'wrong_currency', tx_ref: 'c' });
  addFault(faults, { fault: 'missing_currency', tx_ref: 'c' });
  const taken = takeAnswerFaults(faults, 'c', { amountMinor: 100, currency: 'USD' });
  assert.deepEqual(taken, { amountMinor: 100, currency: 'NGN', dropCurrency: true });
  assert.deepEqual(withAnswerFaults({ amount: 1, currency: 'NGN' }, taken), { amount: 1 });
  const clean = takeAnswerFaults(faults, 'c', { amountMinor: 100, currency: 'USD' });
  assert.deepEqual(clean, { amountMinor: 100, currency: 'USD', dropCurrency: false }, 'each fault used once');
});
