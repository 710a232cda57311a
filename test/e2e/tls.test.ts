// NET-1: served over TLS directly, TLS 1.2 is the floor and can be raised to 1.3. The certificate
// is made for the test with the openssl command line (no key is ever committed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type SecureVersion } from 'node:tls';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const dir = mkdtempSync(join(tmpdir(), 'paywarden-tls-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
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
const [sqlite] = await testDialects();

/** Resolves to the negotiated protocol, or rejects when the server refuses the handshake. */
function handshake(url: string, maxVersion: SecureVersion): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(
      { host: '127.0.0.1', port: Number(port), minVersion: 'TLSv1', maxVersion, rejectUnauthorized: false },
      () => {
        const protocol = socket.getProtocol() ?? 'unknown';
        socket.end();
        resolve(protocol);
      },
    );
    socket.once('error', reject);
  });
}

for (const [minVersion, accepted, refused] of [
  ['TLSv1.2', ['TLSv1.2', 'TLSv1.3'], ['TLSv1.1']],
  ['TLSv1.3', ['TLSv1.3'], ['TLSv1.2']],
] as const) {
  describe(`HTTPS with PAYWARDEN_TLS_MIN_VERSION=${minVersion}`, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway(sqlite!, {
        env: {
          PAYWARDEN_TLS_CERT_FILE: certFile,
          PAYWARDEN_TLS_KEY_FILE: keyFile,
          PAYWARDEN_TLS_MIN_VERSION: minVersion,
        },
      });
    });
    after(async () => gw.close());

    test('the gateway serves https, with HSTS (only over TLS) and the public URL defaulting to https', async () => {
      assert.match(gw.url, /^https:\/\//);
      assert.match(gw.services.config.publicUrl, /^https:\/\//);
      const res = await gw.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(res.statusCode, 200);
      // inject() is not TLS; a real TLS request carries the header.
      const headers = await new Promise<string>((resolve, reject) => {
        const { port } = new URL(gw.url);
        const socket = connect({ host: '127.0.0.1', port: Number(port), rejectUnauthorized: false }, () =>
          socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
        );
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString('latin1');
        });
        socket.on('end', () => resolve(text));
        socket.once('error', reject);
      });
      assert.match(headers, /strict-transport-security: max-age=31536000; includeSubDomains/i);
      assert.equal(res.headers['strict-transport-security'], undefined, 'and never over plain http');
    });
    for (const version of accepted) {
      test(`a ${version} client connects`, async () => {
        assert.equal(await handshake(gw.url, version), version);
      });
    }
    for (const version of refused) {
      test(`a ${version} client is refused`, async () => {
        await assert.rejects(handshake(gw.url, version));
      });
    }
  });
}

after(() => rmSync(dir, { recursive: true, force: true }));
