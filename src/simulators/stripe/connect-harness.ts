// Test harness for the Connect simulator: a simulator with a webhook receiver, raw form calls
// (to see exact statuses and headers), the control API, and an official `stripe` client.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import { startStripeSimulator } from './simulator.ts';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read Stripe objects field by field
  readonly body: any;
}

export async function startConnectHarness() {
  const secretKey = `sk_test_${randomBytes(12).toString('hex')}`;
  const webhookSecret = `whsec_${randomBytes(24).toString('base64')}`;
  const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const sim = await startStripeSimulator({
    secretKey,
    webhookSecret,
    webhookUrl: `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`,
  });
  const port = Number(new URL(sim.url).port);
  const stripe = new Stripe(secretKey, {
    host: '127.0.0.1',
    port,
    protocol: 'http',
    telemetry: false,
    maxNetworkRetries: 0,
  });

  async function control(method: string, path: string, body?: unknown): Promise<RawAnswer> {
    const response = await fetch(`${sim.url}/_sim${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
  }

  /** A raw form POST or GET on /v1, with our headers; rejects on a connection error. */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { form?: Record<string, string>; key?: string; account?: string; timeoutMs?: number } = {},
  ): Promise<RawAnswer> {
    const headers: Record<string, string> = { authorization: `Bearer ${secretKey}` };
    if (options.key !== undefined) headers['idempotency-key'] = options.key;
    if (options.account !== undefined) headers['stripe-account'] = options.account;
    if (options.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers,
      ...(options.form === undefined ? {} : { body: new URLSearchParams(options.form).toString() }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === '' ? null : JSON.parse(text) };
  }

  async function account(fields: Record<string, unknown> = {}): Promise<string> {
    const created = await control('POST', '/accounts', { country: 'US', default_currency: 'usd', ...fields });
    if (created.status !== 201) throw new Error(`account: ${JSON.stringify(created.body)}`);
    return created.body.id as string;
  }

  async function ledger(reference?: string) {
    const answer = await control(
      'GET',
      `/ledger${reference === undefined ? '' : `?reference=${encodeURIComponent(reference)}`}`,
    );
    return answer.body as Array<{ reference: string; id: string; kind: string; amountMinor: number; status: string }>;
  }

  /** Waits until the simulator has finished `count` webhook deliveries. */
  async function webhooks(count: number) {
    const answer = await control('GET', `/webhooks/wait?count=${count}&timeoutMs=5000`);
    if (answer.status !== 200) throw new Error(`webhooks: ${JSON.stringify(answer.body).slice(0, 500)}`);
    return (answer.body as Array<{ body: string; headers: Record<string, string> }>).map((w) => ({
      ...w,
      event: JSON.parse(w.body),
    }));
  }

  return {
    sim,
    port,
    secretKey,
    webhookSecret,
    stripe,
    received,
    control,
    call,
    account,
    ledger,
    webhooks,
    /** Resets once the last test's webhooks are quiet (all delivered, none new for 50 ms), so a
     * settlement still in flight cannot land in the next test's log. */
    async reset() {
      let last = -1;
      for (let i = 0; i < 100; i++) {
        const log = (await control('GET', '/webhooks')).body as Array<{ done: boolean }>;
        if (log.length === last && log.every((w) => w.done)) break;
        last = log.length;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return control('POST', '/reset');
    },
    async close() {
      await sim.close();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}

export type ConnectHarness = Awaited<ReturnType<typeof startConnectHarness>>;
