// The typed client (packages/client) against a running gateway on its simulators: a merchant's
// checkout from creation to a verified `payment.succeeded`, typed errors with the request id, a
// POST whose answer is lost on the way back retried with the same Idempotency-Key (nothing created
// twice), bounded retries when the gateway is down. Also: the generated types match the committed
// description.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  createPaywardenClient,
  PaywardenConnectionError,
  PaywardenError,
  canonicalJson,
  verifyReceipt,
  verifyWebhook,
  WebhookVerificationError,
} from '../../packages/client/src/index.ts';
import { delayBeforeRetryMs, retryAfterMs, shouldRetryStatus } from '../../packages/client/src/retry.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { IN_CI } from '../helpers/services.ts';
import { NGN_BENEFICIARY } from '../helpers/payouts.ts';

const [sqlite] = await testDialects();

/** A TCP hop to the gateway that, for the first N connections, forwards the request and lets the
 * gateway answer, then drops the connection before the answer reaches the client. */
async function answerLosingProxy(
  target: URL,
  connectionsToCut: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const { connect } = await import('node:net');
  let cut = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(upstream);
    const cutThis = cut < connectionsToCut;
    if (cutThis) cut += 1;
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      // The gateway processed the request and is answering: this answer is lost.
      if (cutThis) client.destroy();
      else client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const noWait = async () => undefined;

/** A payment request in NGN for Ada; the reference and amount are the test's. */
const paymentRequest = (reference: string, amount: number) => ({
  amount,
  currency: 'NGN',
  reference,
  customer: { email: 'ada@example.com' },
  redirect_url: 'https://shop.example/thanks',
});

describe('the typed client against a running gateway', { skip: sqlite?.skip }, () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, { start: { runWorkers: true } });
  });
  after(async () => gw?.close());

  test("a merchant's checkout: create, pay, receive and verify payment.succeeded, read it back", async () => {
    const client = createPaywardenClient({ apiKey: gw.key, baseUrl: gw.url });
    const receiver = await startReceiver();
    try {
      const endpoint = await client.webhookEndpoints.create({ url: receiver.url, events: ['payment.succeeded'] });
      assert.match(endpoint.secret, /^whsec_/);
      const payment = await client.payments.create(paymentRequest(`client-${Date.now()}`, 150000));
      assert.equal(payment.status, 'pending');
      assert.ok(payment.checkout_url);
      await payAtCheckout(payment.checkout_url);
      await receiver.waitFor(1, 15_000);
      const delivery = receiver.received[0]!;
      const event = verifyWebhook(delivery.body, delivery.headers, endpoint.secret);
      assert.equal(event.type, 'payment.succeeded');
      assert.equal(event.data.object.id, payment.id);
      assert.throws(
        () => verifyWebhook(delivery.body.replace('succeeded', 'suceeded'), delivery.headers, endpoint.secret),
        WebhookVerificationError,
      );
      assert.throws(() =>
        verifyWebhook(delivery.body, delivery.headers, `whsec_${Buffer.alloc(32).toString('base64')}`),
      );
      const read = await client.payments.get(payment.id);
      assert.equal(read.status, 'succeeded');
    } finally {
      await receiver.close();
    }
  });

  test('a payout: beneficiary resolved, payout sent once, settled at the simulator; balances readable', async () => {
    const client = createPaywardenClient({ apiKey: gw.key, baseUrl: gw.url });
    const beneficiary = await client.beneficiaries.create(NGN_BENEFICIARY);
    assert.match(beneficiary.id, /^ben_/);
    const reference = `client-payout-${Date.now()}`;
    const payout = await client.payouts.create({
      amount: 120_000,
      currency: 'NGN',
      beneficiary: beneficiary.id,
      reference,
    });
    assert.equal(payout.reference, reference);
    const replayed = await client.payouts
      .create(
        { amount: 120_000, currency: 'NGN', beneficiary: beneficiary.id, reference },
        { idempotencyKey: 'client-payout-replay' },
      )
      .catch((e: unknown) => e);
    assert.ok(replayed instanceof PaywardenError && replayed.status === 409, 'a used reference is refused, naming it');
    await waitUntil(
      async () => (await client.payouts.get(payout.id)).status === 'succeeded',
      'the payout settled',
      20_000,
    );
    const ledger = (await gw.sim('GET', '/_sim/ledger')) as Array<{ amountMinor: number }>;
    assert.equal(ledger.filter((row) => row.amountMinor === 120_000).length, 1, 'exactly one transfer at the provider');
    const balances = await client.balances.get();
    assert.ok(Array.isArray(balances.data));
  });

  test('a payout file: created and held for approval, the same file again is the same batch, read back typed', async () => {
    const client = createPaywardenClient({ apiKey: gw.key, baseUrl: gw.url });
    const beneficiary = await client.beneficiaries.create(NGN_BENEFICIARY);
    const csv = `amount,currency,beneficiary,reference,narration\r\n12.50,NGN,${beneficiary.id},client-file-${Date.now()},\r\n`;
    const batch = await client.payoutBatches.create({ csv, filename: 'client.csv' });
    assert.equal(batch.status, 'submitted');
    assert.equal(batch.rows[0]?.amount, 1250);
    const again = await client.payoutBatches.create({ csv });
    assert.equal(again.id, batch.id);
    const read = await client.payoutBatches.get(batch.id);
    assert.equal(read.rows[0]?.payout, batch.rows[0]?.payout);
    assert.equal((await client.payouts.get(read.rows[0]!.payout!)).status, 'on_hold');
    const refused = await client.payoutBatches.create({ csv: 'not,a,payout,file\n' }).catch((e: unknown) => e);
    assert.ok(refused instanceof PaywardenError && refused.code === 'payout_file_invalid');
  });

  test('errors are typed, with the code, the field and the request id; 4xx are not retried', async () => {
    let attempts = 0;
    const client = createPaywardenClient({
      apiKey: gw.key,
      baseUrl: gw.url,
      sleep: noWait,
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    });
    const error = await client.payments.create(paymentRequest('bad', 0)).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof PaywardenError);
    assert.equal(error.status, 422);
    assert.equal(error.code, 'parameter_invalid');
    assert.equal(error.param, 'amount');
    assert.match(error.requestId ?? '', /^req_/);
    assert.equal(attempts, 1);
    const missing = await client.payments.get('pay_0000000000000000000000').catch((e: unknown) => e);
    assert.ok(missing instanceof PaywardenError && missing.code === 'not_found');
    const unauthorised = createPaywardenClient({ apiKey: 'sk_test_wrong', baseUrl: gw.url });
    const denied = await unauthorised.payments.list().catch((e: unknown) => e);
    assert.ok(denied instanceof PaywardenError && denied.status === 401, String(denied));
  });

  test('an answer lost on the way back: the retry carries the same key, and one payment exists', async () => {
    const proxy = await answerLosingProxy(new URL(gw.url), 1);
    const sent: string[] = [];
    try {
      const client = createPaywardenClient({
        apiKey: gw.key,
        baseUrl: proxy.url,
        sleep: noWait,
        fetch: (input, init) => {
          sent.push(String((init?.headers as Record<string, string>)['idempotency-key']));
          return fetch(input, init);
        },
      });
      const reference = `lost-answer-${Date.now()}`;
      const payment = await client.payments.create(paymentRequest(reference, 5000));
      assert.equal(sent.length, 2, 'the first answer was lost, so the client asked again');
      assert.equal(sent[0], sent[1], 'with the same Idempotency-Key');
      const direct = createPaywardenClient({ apiKey: gw.key, baseUrl: gw.url });
      const found = await direct.payments.list({ reference });
      assert.deepEqual(
        found.data.map((p) => p.id),
        [payment.id],
        'exactly one payment was created',
      );
    } finally {
      await proxy.close();
    }
  });

  test('a gateway that is down: bounded retries, then a connection error that keeps the key', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    let attempts = 0;
    const client = createPaywardenClient({
      apiKey: gw.key,
      baseUrl: `http://127.0.0.1:${port}`,
      retry: { maxRetries: 2 },
      sleep: noWait,
      fetch: (input, init) => {
        attempts += 1;
        return fetch(input, init);
      },
    });
    const error = await client.events
      .redeliver('evt_0000000000000000000000', { idempotencyKey: 'mine-1' })
      .catch((e: unknown) => e);
    assert.ok(error instanceof PaywardenConnectionError, String(error));
    assert.equal(error.idempotencyKey, 'mine-1');
    assert.equal(attempts, 3);
  });
});

describe('receipts, by the documented algorithm', () => {
  // The test vectors of docs/receipts/README.md, read from the document itself.
  const doc = readFileSync(new URL('../../docs/receipts/README.md', import.meta.url), 'utf8');
  const block = (name: string) => new RegExp('```[a-z]+ ' + name + '\\n(.*?)\\n```', 's').exec(doc)?.[1] ?? '';
  const keyBase64 = /Key \(base64[^`]*`([^`]+)`/.exec(doc)?.[1] ?? '';
  const signatures = [...doc.matchAll(/Signature: `([0-9a-f]{64})`/g)].map((m) => m[1]!);
  test('canonical JSON and signatures match the vectors; tampering, another key or an unknown key id fail', () => {
    assert.ok(keyBase64 !== '' && signatures.length >= 2);
    for (const [i, signature] of signatures.slice(0, 2).entries()) {
      const receipt = JSON.parse(block(`vector-${i + 1}`));
      assert.equal(canonicalJson(receipt), block(`canonical-${i + 1}`));
      const keys = { [receipt.key_id]: keyBase64 };
      assert.equal(verifyReceipt({ receipt, signature }, keys), true);
      assert.equal(verifyReceipt({ receipt: { ...receipt, amount: receipt.amount + 1 }, signature }, keys), false);
      assert.equal(
        verifyReceipt({ receipt, signature }, { [receipt.key_id]: Buffer.alloc(32, 1).toString('base64') }),
        false,
      );
      assert.equal(verifyReceipt({ receipt, signature }, {}), false);
      assert.equal(verifyReceipt({ receipt, signature: signature.toUpperCase() }, keys), false);
    }
  });
});

describe('the retry rules', () => {
  test('what is retried', () => {
    for (const status of [429, 500, 502, 503, 504])
      assert.equal(shouldRetryStatus(status, undefined), true, String(status));
    for (const status of [400, 401, 403, 404, 409, 415, 422])
      assert.equal(shouldRetryStatus(status, 'x'), false, String(status));
    // The gateway's own codes for "the same request is still running" (docs/errors.md).
    assert.equal(shouldRetryStatus(409, 'idempotency_key_in_flight'), true);
    assert.equal(shouldRetryStatus(409, 'checkout_in_progress'), true);
    assert.equal(shouldRetryStatus(409, 'reference_already_used'), false);
  });
  test('Retry-After in seconds or as a date; backoff bounded and jittered; the server may ask for longer', () => {
    assert.equal(retryAfterMs('3', 0), 3000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(retryAfterMs('soon', 0), undefined);
    assert.equal(retryAfterMs(null, 0), undefined);
    const policy = { maxRetries: 3, baseDelayMs: 500, maxDelayMs: 10_000 };
    assert.equal(
      delayBeforeRetryMs(policy, 0, undefined, () => 1),
      500,
    );
    assert.equal(
      delayBeforeRetryMs(policy, 10, undefined, () => 1),
      10_000,
    );
    assert.equal(
      delayBeforeRetryMs(policy, 0, undefined, () => 0),
      0,
    );
    assert.equal(
      delayBeforeRetryMs(policy, 0, 5000, () => 0.5),
      5000,
    );
    assert.equal(
      delayBeforeRetryMs(policy, 0, 3_600_000, () => 0.5),
      30_000,
      'never more than 3 x the cap',
    );
  });
});

describe('the generated types', () => {
  const generator = new URL('../../packages/client/node_modules/.bin/openapi-typescript', import.meta.url).pathname;
  const unavailable = existsSync(generator)
    ? undefined
    : 'openapi-typescript not installed (npm ci --prefix packages/client)';
  if (unavailable !== undefined && IN_CI) throw new Error(`CI needs the client's generator: ${unavailable}`);
  test('packages/client/src/schema.d.ts is what openapi-typescript makes of docs/openapi.json', {
    skip: unavailable,
  }, () => {
    const out = spawnSync(generator, ['../../docs/openapi.json'], {
      cwd: new URL('../../packages/client/', import.meta.url).pathname,
      encoding: 'utf8',
    });
    assert.equal(out.status, 0, out.stderr);
    const committed = readFileSync(new URL('../../packages/client/src/schema.d.ts', import.meta.url), 'utf8');
    assert.equal(committed, out.stdout, 'run `npm run generate --prefix packages/client`');
  });
});
