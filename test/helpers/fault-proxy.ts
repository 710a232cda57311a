// A TLS-terminating reverse proxy in front of a gateway, misconfigured on purpose: the usual way a
// correct gateway ends up as a wrong deployment (old TLS versions, weak suites, headers stripped,
// TRACE answered, /metrics forwarded from loopback to the world).
import { createServer, type ServerOptions } from 'node:https';
import { request } from 'node:http';
import type { SecureVersion } from 'node:tls';
import type { TestCertificate } from './certificates.ts';

export interface FaultProxyOptions {
  readonly certificate: TestCertificate;
  readonly minVersion?: SecureVersion;
  /** OpenSSL cipher string; default Node's own list (which still takes CBC suites). */
  readonly ciphers?: string;
  readonly dropHeaders?: readonly string[];
  readonly answerTrace?: boolean;
  /** Paths answered 404 at the proxy (a correct proxy blocks /metrics and /dashboard). */
  readonly blockPrefixes?: readonly string[];
}

export async function startFaultProxy(
  upstream: string,
  options: FaultProxyOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const tlsOptions: ServerOptions = {
    cert: options.certificate.cert,
    key: options.certificate.key,
    minVersion: options.minVersion ?? 'TLSv1.2',
    ...(options.ciphers === undefined ? {} : { ciphers: options.ciphers }),
  };
  const server = createServer(tlsOptions, (req, res) => {
    if (options.answerTrace === true && req.method === 'TRACE') {
      res.writeHead(200, { 'content-type': 'message/http' });
      res.end(
        `${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers)
          .map(([k, v]) => `${k}: ${v}`)
          .join('\r\n')}`,
      );
      return;
    }
    if (options.blockPrefixes?.some((p) => req.url?.startsWith(p)) === true) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const forward = request(
      new URL(req.url ?? '/', upstream),
      // As a TLS-terminating proxy does: the gateway (which trusts it) learns the request came over https.
      {
        method: req.method,
        headers: {
          ...req.headers,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
        },
      },
      (answer) => {
        const headers = { ...answer.headers };
        for (const name of options.dropHeaders ?? []) delete headers[name];
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
