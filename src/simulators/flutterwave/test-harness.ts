// Shared by the simulator's tests (not a test itself): a simulator on a random loopback port with
// freshly generated credentials, a webhook receiver that keeps the exact bytes it was sent, the
// control client, and the few calls every test makes.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFlutterwaveControlClient } from './control-client.ts';
import { startFlutterwaveSimulator, type FlutterwaveSimulatorOptions } from './simulator.ts';

export interface ReceivedWebhook {
  readonly rawBody: string;
  readonly headers: IncomingHttpHeaders;
  readonly path: string;
}

export interface Harness {
  readonly url: string;
  readonly secretKey: string;
  readonly secretHash: string;
  readonly receiverUrl: string;
  /** Every webhook the receiver got, in arrival order (the test may empty it). */
  readonly received: ReceivedWebhook[];
  readonly control: ReturnType<typeof createFlutterwaveControlClient>;
  v3(method: string, path: string, body?: unknown, init?: { key?: string; signal?: AbortSignal }): Promise<Response>;
  createCheckout(
    overrides?: Record<string, unknown>,
  ): Promise<{ txRef: string; link: string; response: Response; json: any }>;
  press(link: string, button?: 'pay' | 'decline'): Promise<Response>;
  close(): Promise<void>;
}

/** Fake keys in Flutterwave's format, new for every run: never a literal secret in the code. */
export const fakeSecretKey = () => `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`;

let references = 0;

export async function startHarness(options: Partial<FlutterwaveSimulatorOptions> = {}): Promise<Harness> {
  const received: ReceivedWebhook[] = [];
  const receiver: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ rawBody: Buffer.concat(chunks).toString('utf8'), headers: req.headers, path: req.url ?? '' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const secretKey = fakeSecretKey();
  const secretHash = randomBytes(16).toString('hex');
  const sim = await startFlutterwaveSimulator({ secretKey, secretHash, webhookUrl: `${receiverUrl}/hook`, ...options });

  const v3: Harness['v3'] = (method, path, body, init = {}) =>
    fetch(`${sim.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${init.key ?? secretKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });

  return {
    url: sim.url,
    secretKey,
    secretHash,
    receiverUrl,
    received,
    control: createFlutterwaveControlClient(sim.url),
    v3,
    async createCheckout(overrides = {}) {
      references += 1;
      const txRef = `ord_${process.pid}_${references}`;
      const response = await v3('POST', '/v3/payments', {
        tx_ref: txRef,
        amount: '75.50',
        currency: 'NGN',
        redirect_url: 'https://merchant.example/back?order=1',
        customer: { email: 'ada@example.com', name: 'Ada Okafor' },
        ...overrides,
      });
      const json: any = await response.json();
      return { txRef: (overrides.tx_ref as string | undefined) ?? txRef, link: json.data?.link, response, json };
    },
    press: (link, button = 'pay') =>
      fetch(`${link}/${button}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: '',
      }),
    async close() {
      await sim.close();
      await new Promise<void>((resolve) => {
        receiver.close(() => resolve());
        receiver.closeAllConnections();
      });
    },
  };
}
