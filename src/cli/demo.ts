// `paywarden demo`: one complete test payment against a running gateway, step by step with
// latencies — create, pay at the simulator's hosted checkout, provider webhook, verification,
// and the signed event arriving at a merchant endpoint that this command runs for the occasion.
import { openKeysAtRest } from '../privacy/keys-at-rest.ts';
import { createServer, type IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/config.ts';
import { openDatabase } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { createApiKeyService } from '../keys/api-keys.ts';
import { systemClock } from '../clock.ts';
import { verifySignature } from '../delivery/signing.ts';

interface DemoOptions {
  readonly url: string;
  readonly key: string | undefined;
  readonly config: Config;
  readonly out?: (line: string) => void;
  readonly timeoutMs?: number;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? ((line: string) => console.log(line));
  const base = options.url.replace(/\/+$/, '');
  const key = options.key ?? (await createDemoKey(options.config));
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as Record<string, unknown>;
    if (!response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json.error ?? json)}`);
    return json;
  };

  let received: ((event: { body: string; headers: IncomingMessage['headers'] }) => void) | undefined;
  const eventArrived = new Promise<{ body: string; headers: IncomingMessage['headers'] }>(
    (resolve) => (received = resolve),
  );
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(204).end();
      received?.({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/paywarden-events`;
  const step = async <T>(label: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await work();
    out(`  ✓ ${label.padEnd(52)} ${(performance.now() - started).toFixed(1).padStart(8)} ms`);
    return result;
  };

  let endpointId: string | undefined;
  try {
    out(`Paywarden demo against ${base}\n`);
    const endpoint = await step('register a merchant webhook endpoint', () =>
      api('POST', '/v1/webhook_endpoints', { url: receiverUrl, events: ['payment.*'] }),
    );
    endpointId = String(endpoint.id);
    const reference = `demo-${Date.now()}`;
    const payment = await step(`create a payment (NGN 1,500.00, ${reference})`, () =>
      api('POST', '/v1/payments', {
        amount: 150000,
        currency: 'NGN',
        reference,
        customer: { email: 'ada@example.com', name: 'Ada Okafor' },
        redirect_url: 'http://127.0.0.1:9/thanks',
        metadata: { order: reference },
      }),
    );
    out(`      ${payment.id} is ${payment.status}; checkout at ${payment.checkout_url}`);
    const total = performance.now();
    await step('customer opens the hosted checkout and clicks Pay', async () => {
      const page = await fetch(String(payment.checkout_url));
      const html = await page.text();
      const action = /<form[^>]*action="([^"]*\/pay)"/i.exec(html)?.[1];
      if (action === undefined) throw new Error('the checkout page has no Pay form');
      const paid = await fetch(new URL(action.replaceAll('&amp;', '&'), String(payment.checkout_url)), {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      });
      if (paid.status !== 302 && paid.status !== 303) throw new Error(`paying answered ${paid.status}`);
    });
    const event = await step('webhook in, verified with provider, event delivered', () =>
      withTimeout(eventArrived, options.timeoutMs ?? 30_000),
    );
    const parsed = JSON.parse(event.body) as { type: string; data: { object: { id: string; status: string } } };
    const check = verifySignature({
      headers: event.headers as Record<string, string>,
      body: event.body,
      secrets: [String(endpoint.secret)],
      nowSeconds: Math.floor(Date.now() / 1000),
    });
    out(
      `      merchant received ${parsed.type} for ${parsed.data.object.id} (webhook-id ${String(event.headers['webhook-id'])}); signature ${check.ok ? 'valid' : 'INVALID'}`,
    );
    const final = await step('read the payment back', () => api('GET', `/v1/payments/${String(payment.id)}`));
    out(
      `\nPayment ${final.id} is ${final.status}; from Pay to merchant event in ${(performance.now() - total).toFixed(0)} ms.`,
    );
    return final.status === 'succeeded' && check.ok ? 0 : 1;
  } catch (error) {
    out(`\n  ✗ ${error instanceof Error ? error.message : String(error)}`);
    out('    Is the gateway running in test mode (npm start) at that URL, with a test key?');
    return 1;
  } finally {
    if (endpointId !== undefined) await api('DELETE', `/v1/webhook_endpoints/${endpointId}`).catch(() => undefined);
    receiver.close();
  }
}

async function createDemoKey(config: Config): Promise<string> {
  const database = openDatabase(config.databaseUrl);
  try {
    await migrateToLatest(database);
    return (
      await createApiKeyService({
        db: database.db,
        masterKey: (await openKeysAtRest({ db: database.db, ...config, clock: systemClock })).purposeKeys,
        clock: systemClock,
      }).create({
        mode: 'test',
        name: 'demo',
      })
    ).key;
  } finally {
    await database.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no merchant event within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
