// Issue 16 §1 on real sockets: a client that sends its headers and one byte of the body and then
// goes silent is cut off within the request timeout; one that never finishes its headers within
// the headers timeout; a silent kept-alive connection within the keep-alive timeout; connections
// beyond the cap are refused; a saturated process sheds load with 503 + Retry-After and /healthz
// says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { waitUntil } from '../helpers/checkout.ts';

const [sqlite] = await testDialects();

/** Opens a raw socket to the gateway; resolves once connected. */
function open(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Milliseconds until the server closes the socket, and what it sent before; rejects after `limitMs`. */
function closedWithin(socket: Socket, limitMs: number): Promise<{ elapsedMs: number; received: string }> {
  const started = Date.now();
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server still held the connection after ${limitMs} ms`));
    }, limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ elapsedMs: Date.now() - started, received });
    });
  });
}

describe('timeouts on real slow sockets', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, {
      env: {
        PAYWARDEN_HTTP_HEADERS_TIMEOUT_SECONDS: '1',
        PAYWARDEN_HTTP_REQUEST_TIMEOUT_SECONDS: '2',
        PAYWARDEN_HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '1',
      },
    });
  });
  after(async () => gw.close());

  test('headers and one byte of a 100-byte body, then silence: cut off within the request timeout', async () => {
    const socket = await open(gw.url);
    socket.write(
      `POST /webhooks/flutterwave HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    const { elapsedMs } = await closedWithin(socket, 6000);
    // The request timeout (2 s) plus Node's check interval (250 ms) plus slack for a loaded machine.
    assert.ok(elapsedMs <= 2000 + 1500, `closed after ${elapsedMs} ms`);
  });

  test('200 such connections are all closed, not held', async () => {
    const sockets = await Promise.all(Array.from({ length: 200 }, () => open(gw.url)));
    for (const socket of sockets)
      socket.write(
        'POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{',
      );
    const results = await Promise.all(sockets.map((socket) => closedWithin(socket, 8000)));
    assert.ok(Math.max(...results.map((r) => r.elapsedMs)) <= 2000 + 3000);
  });

  test('headers that never finish: cut off within the headers timeout', async () => {
    const socket = await open(gw.url);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a');
    const { elapsedMs } = await closedWithin(socket, 5000);
    assert.ok(elapsedMs <= 1000 + 1500, `closed after ${elapsedMs} ms`);
  });

  test('a connection that says nothing at all is closed too', async () => {
    const { elapsedMs } = await closedWithin(await open(gw.url), 5000);
    assert.ok(elapsedMs <= 1000 + 1500, `closed after ${elapsedMs} ms`);
  });

  test('a kept-alive connection that goes quiet after its request is closed after the keep-alive timeout', async () => {
    const socket = await open(gw.url);
    const closed = closedWithin(socket, 5000);
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const { elapsedMs, received } = await closed;
    assert.match(received, /^HTTP\/1\.1 200/);
    // Node keeps a kept-alive socket one more second than it advertises (keepAliveTimeoutBuffer),
    // so a client reusing it at the advertised deadline does not race the close.
    assert.ok(elapsedMs <= 1000 + 1000 + 1500, `closed after ${elapsedMs} ms`);
  });

  test('a client that keeps up is served', async () => {
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
  });
});

describe('the connection cap', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!, { env: { PAYWARDEN_HTTP_MAX_CONNECTIONS: '5' } });
  });
  after(async () => gw.close());

  test('connections beyond the cap are refused; once one closes, a new one is served', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => open(gw.url)));
    // The server has accepted the five before it sees the sixth.
    await waitUntil(
      () => new Promise<boolean>((resolve) => gw.app.server.getConnections((_e, n) => resolve(n === 5))),
      'five connections',
    );
    const extra = await open(gw.url);
    extra.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const refused = await closedWithin(extra, 3000);
    assert.equal(refused.received, '', 'closed without an answer');
    held[0]!.destroy();
    await waitUntil(
      () => new Promise<boolean>((resolve) => gw.app.server.getConnections((_e, n) => resolve(n < 5))),
      'a free slot',
    );
    const res = await fetch(`${gw.url}/healthz`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    for (const socket of held) socket.destroy();
  });
});

describe('load shedding', () => {
  test('memory over its limit: 503 with Retry-After everywhere, /healthz says overloaded, /metrics answers', async () => {
    // 1 MB of RSS is always exceeded: the process is "saturated" from the first sample on.
    const gw = await startTestGateway(sqlite!, {
      env: { PAYWARDEN_SHED_RSS_MB: '1', PAYWARDEN_SHED_SAMPLE_INTERVAL_MS: '20' },
    });
    try {
      await waitUntil(async () => (await fetch(`${gw.url}/healthz`)).status === 503, 'healthz to say overloaded');
      const health = await fetch(`${gw.url}/healthz`);
      assert.deepEqual(await health.json(), { status: 'overloaded', reasons: ['rss'] });
      const shed = await gw.api('GET', '/v1/payments');
      assert.equal(shed.status, 503);
      assert.equal(shed.body.error.code, 'service_unavailable');
      assert.equal(shed.headers.get('retry-after'), '10');
      assert.equal((await fetch(`${gw.url}/webhooks/flutterwave`, { method: 'POST', body: '{}' })).status, 503);
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /paywarden_http_load_shed_total\{reason="rss"\} [1-9]/);
    } finally {
      await gw.close();
    }
  });

  test('a blocked event loop: requests just after it are shed, then the gateway recovers', async () => {
    const gw = await startTestGateway(sqlite!, {
      env: { PAYWARDEN_SHED_EVENT_LOOP_DELAY_MS: '20', PAYWARDEN_SHED_SAMPLE_INTERVAL_MS: '200' },
    });
    try {
      // The sampler reads the delay on its next tick after the burst; on a busy machine a request can
      // be read before that tick, so the burst is tried up to three times, and one of them must be shed.
      let api: Awaited<ReturnType<typeof gw.api>> | undefined;
      let health: Response | undefined;
      for (let burst = 0; burst < 3 && api?.status !== 503; burst += 1) {
        const until = Date.now() + 1200;
        while (Date.now() < until) {
          // Busy: the event loop of this process (the gateway's) is held, as by a CPU-bound burst.
        }
        [api, health] = await Promise.all([gw.api('GET', '/v1/payments'), fetch(`${gw.url}/healthz`)]);
        if (api.status !== 503) await waitUntil(async () => (await fetch(`${gw.url}/healthz`)).status === 200, 'calm');
      }
      assert.ok(api !== undefined && health !== undefined);
      assert.equal(api.status, 503);
      assert.equal(api.headers.get('retry-after'), '10');
      assert.equal(health.status, 503);
      assert.deepEqual(((await health.json()) as { reasons: string[] }).reasons, ['event_loop_delay']);
      await waitUntil(async () => (await fetch(`${gw.url}/healthz`)).status === 200, 'recovery');
      assert.equal((await gw.api('GET', '/v1/payments')).status, 200);
    } finally {
      await gw.close();
    }
  });
});
