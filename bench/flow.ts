// The payment flow the latency bench and the soak drive: a Flutterwave simulator in its own
// process, the gateway pointed at it, and a merchant endpoint here that records when each
// payment's `payment.succeeded` arrives. A payment is created through /v1/payments and completed
// headlessly at the simulator (`/_sim/transactions/<tx_ref>/complete`), which then sends the
// signed charge.completed webhook; the gateway ingests it, verifies with the simulator, moves the
// payment and delivers the event.
import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { freePort, startGateway, startSimulator } from './lib.ts';

export interface Merchant {
  readonly url: string;
  /** Resolves with the performance.now() at which payment.succeeded for `paymentId` arrived. */
  arrival(paymentId: string): Promise<number>;
  received(): number;
  close(): void;
}

export async function startMerchant(): Promise<Merchant> {
  const arrived = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let count = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      res.writeHead(200).end();
      const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        type: string;
        data: { object: { id: string } };
      };
      if (event.type !== 'payment.succeeded') return;
      count += 1;
      const id = event.data.object.id;
      const waiter = waiting.get(id);
      if (waiter === undefined) arrived.set(id, at);
      else {
        waiting.delete(id);
        waiter(at);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`,
    arrival(paymentId) {
      const at = arrived.get(paymentId);
      if (at !== undefined) {
        arrived.delete(paymentId);
        return Promise.resolve(at);
      }
      return new Promise((resolve) => waiting.set(paymentId, resolve));
    },
    received: () => count,
    close: () => server.close(),
  };
}

export interface FlowSetup {
  readonly gateway: Awaited<ReturnType<typeof startGateway>>;
  readonly simulator: Awaited<ReturnType<typeof startSimulator>>;
  readonly merchant: Merchant;
  readonly secretKey: string;
  /** Keep-alive connections to the gateway and to the simulator, for the driver's own requests. */
  readonly gatewayPool: Pool;
  readonly simulatorPool: Pool;
}

/** Starts the simulator, then the gateway pointed at it, the merchant endpoint and its subscription. */
export async function startFlow(options: {
  databaseUrl: string;
  dataDir: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
}): Promise<FlowSetup> {
  const secretKey = `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;
  const secretHash = randomBytes(24).toString('base64url');
  const port = await freePort();
  const simulator = await startSimulator(`http://127.0.0.1:${port}/webhooks/flutterwave`, secretKey, secretHash);
  const gateway = await startGateway({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    secretHash,
    simulator: { url: simulator.url, secretKey },
    port,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.nodeArgs === undefined ? {} : { nodeArgs: options.nodeArgs }),
  });
  const merchant = await startMerchant();
  const gatewayPool = new Pool(gateway.url, { connections: 256, pipelining: 1 });
  const simulatorPool = new Pool(simulator.url, { connections: 256, pipelining: 1 });
  const setup = { gateway, simulator, merchant, secretKey, gatewayPool, simulatorPool };
  await api(setup, 'POST', '/v1/webhook_endpoints', { url: merchant.url, events: ['payment.succeeded'] });
  // Warm up (lazy imports, JIT, prepared statements): the first payments of a fresh process take
  // tens of times longer than the rest.
  for (let i = 0; i < 40; i += 1) {
    const id = await createPayment(setup);
    const arrived = setup.merchant.arrival(id);
    await completeAtSimulator(setup, id);
    await within(arrived, 30_000, 'a warm-up payment.succeeded');
  }
  return setup;
}

export async function stopFlow(setup: FlowSetup): Promise<void> {
  setup.merchant.close();
  await Promise.allSettled([setup.gatewayPool.close(), setup.simulatorPool.close()]);
  const exited = new Promise((resolve) => setup.gateway.child.once('exit', resolve));
  setup.gateway.child.kill('SIGTERM');
  setup.simulator.child.kill();
  await exited;
}

/** One /v1 call; throws on an answer other than 2xx. */
export async function api(setup: FlowSetup, method: 'GET' | 'POST', path: string, body?: unknown) {
  const answer = await setup.gatewayPool.request({
    method,
    path,
    headers: {
      authorization: `Bearer ${setup.gateway.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'POST' ? { 'idempotency-key': randomUUID() } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await answer.body.text();
  if (answer.statusCode >= 300) throw new Error(`${method} ${path} answered ${answer.statusCode}: ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

let nextReference = 0;
/** A payment creation body with a unique reference. */
export function paymentBody(): string {
  return JSON.stringify({
    amount: 1000,
    currency: 'NGN',
    reference: `bench-${nextReference++}-${randomUUID().slice(0, 8)}`,
    customer: { email: 'b@example.com' },
    redirect_url: 'https://m.example/r',
  });
}

/** Creates one payment; answers its id. */
export async function createPayment(setup: FlowSetup): Promise<string> {
  const answer = await setup.gatewayPool.request({
    method: 'POST',
    path: '/v1/payments',
    headers: {
      authorization: `Bearer ${setup.gateway.key}`,
      'content-type': 'application/json',
      'idempotency-key': randomUUID(),
    },
    body: paymentBody(),
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 201 && answer.statusCode !== 200)
    throw new Error(`POST /v1/payments answered ${answer.statusCode}: ${text}`);
  return String((JSON.parse(text) as { id: string }).id);
}

/** The customer pays at the simulator (headless): the simulator sends charge.completed.
 * Answers the simulator's transaction id. */
export async function completeAtSimulator(setup: FlowSetup, paymentId: string): Promise<number> {
  const answer = await setup.simulatorPool.request({
    method: 'POST',
    path: `/_sim/transactions/${paymentId}/complete`,
    headers: { 'content-type': 'application/json' },
    body: '{"status":"successful"}',
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`completing ${paymentId} answered ${answer.statusCode}: ${text}`);
  return (JSON.parse(text) as { id: number }).id;
}

/** The simulator sends a transaction's charge.completed again (a duplicate delivery). */
export async function resendAtSimulator(setup: FlowSetup, transactionId: number): Promise<void> {
  const answer = await setup.simulatorPool.request({ method: 'POST', path: `/_sim/webhooks/${transactionId}/resend` });
  await answer.body.text();
  if (answer.statusCode !== 202) throw new Error(`resend answered ${answer.statusCode}`);
}

/** Rejects after `ms`, naming what did not happen. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
