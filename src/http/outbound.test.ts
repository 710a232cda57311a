// API-11 and COL-3 for provider calls: certificates are verified, TLS below 1.2 is refused, a
// 5xx, 429 or timeout is indefinite (never a definite failure), Retry-After is read, and the
// per-provider budget holds calls back without sending them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import { systemClock } from '../clock.ts';
import { createLogger } from '../log.ts';
import { createOutboundHttp } from './outbound.ts';

const logger = createLogger('silent');
const listen = (server: Server | HttpsServer) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );

describe('outbound provider client', () => {
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-outbound-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  let plain: Server;
  let plainPort = 0;
  let hits = 0;
  before(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    plain = createServer((req, res) => {
      hits += 1;
      if (req.url === '/503') return void res.writeHead(503, { 'retry-after': '7' }).end('{}');
      if (req.url === '/429') return void res.writeHead(429, { 'retry-after': '3' }).end('{}');
      // Never answers: the client's own timeout must end the call.
      if (req.url === '/slow') return;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    plainPort = await listen(plain);
  });
  after(() => {
    plain.closeAllConnections();
    plain.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // A generous timeout for calls that must be answered (a 300 ms one turned the 503 into a timeout
  // on a loaded machine), and a short one only where the timeout itself is tested.
  const client = (limiter?: RateLimiterMemory, defaultTimeoutMs = 10_000) =>
    createOutboundHttp({ provider: 'test', limiter, clock: systemClock, logger, defaultTimeoutMs });

  test('an untrusted certificate is refused: the call is indefinite and nothing is read', async () => {
    const server = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (_req, res) =>
      res.end('{"ok":true}'),
    );
    const port = await listen(server);
    try {
      const outcome = await client().send({ method: 'GET', url: `https://127.0.0.1:${port}/`, headers: {} });
      assert.equal(outcome.kind, 'indefinite');
      assert.match(outcome.kind === 'indefinite' ? outcome.reason : '', /certificate|self.signed/i);
    } finally {
      server.close();
    }
  });

  test('a server that only speaks TLS 1.1 is refused', async () => {
    const server = createHttpsServer(
      {
        key: readFileSync(keyFile),
        cert: readFileSync(certFile),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
      (_req, res) => res.end('{}'),
    );
    const port = await listen(server);
    try {
      const outcome = await client().send({ method: 'GET', url: `https://127.0.0.1:${port}/`, headers: {} });
      assert.equal(outcome.kind, 'indefinite');
      // Refused for the protocol version, before any certificate is even looked at.
      assert.match(outcome.kind === 'indefinite' ? outcome.reason : '', /version|protocol/i);
    } finally {
      server.close();
    }
  });

  test('5xx and 429 are indefinite with Retry-After; a timeout is indefinite; 200 is a response', async () => {
    const http = client();
    const unavailable = await http.send({ method: 'GET', url: `http://127.0.0.1:${plainPort}/503`, headers: {} });
    assert.deepEqual(unavailable.kind === 'indefinite' && [unavailable.reason, unavailable.retryAfterMs], [
      'provider answered 503',
      7000,
    ]);
    const limited = await http.send({ method: 'GET', url: `http://127.0.0.1:${plainPort}/429`, headers: {} });
    assert.equal(limited.kind === 'indefinite' && limited.retryAfterMs, 3000);
    const slow = await client(undefined, 300).send({
      method: 'GET',
      url: `http://127.0.0.1:${plainPort}/slow`,
      headers: {},
    });
    assert.equal(slow.kind, 'indefinite');
    const ok = await http.send({ method: 'GET', url: `http://127.0.0.1:${plainPort}/`, headers: {} });
    assert.equal(ok.kind === 'response' && ok.response.status, 200);
  });

  test('the per-provider budget holds calls back without sending them', async () => {
    const http = client(new RateLimiterMemory({ points: 2, duration: 60 }));
    const before = hits;
    for (let i = 0; i < 2; i += 1)
      assert.equal(
        (await http.send({ method: 'GET', url: `http://127.0.0.1:${plainPort}/`, headers: {} })).kind,
        'response',
      );
    const held = await http.send({ method: 'GET', url: `http://127.0.0.1:${plainPort}/`, headers: {} });
    assert.equal(held.kind, 'indefinite');
    assert.equal(held.kind === 'indefinite' && held.notSent, true);
    assert.ok(held.kind === 'indefinite' && (held.retryAfterMs ?? 0) > 0);
    assert.equal(hits - before, 2, 'the third call never left');
  });
});
