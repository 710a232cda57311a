// Plain requests with node:http(s), not fetch: fetch refuses to send TRACE, and the doctor must see
// exactly what a hostile client would get back, headers included.
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface ProbeAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The first 64 KiB of the body. */
  readonly body: string;
}

export interface ProbeOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  /** Extra CA certificates to trust (PEM). */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number;
}

const BODY_LIMIT = 64 * 1024;

export function probe(url: string, options: ProbeOptions = {}): Promise<ProbeAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: { 'user-agent': 'paywarden-doctor', ...options.headers },
        timeout: options.timeoutMs ?? 10_000,
        // A fresh connection per probe: a server that closes after refusing one method must not
        // make the next probe fail on a reused socket.
        agent: false,
        // The certificate itself is judged by the TLS checks; here we want the answer even from a
        // server whose certificate those checks fail, to report every problem in one run.
        ...(target.protocol === 'https:' ? { rejectUnauthorized: false, ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < BODY_LIMIT) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8').slice(0, BODY_LIMIT),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.origin} within the timeout`)));
    req.on('error', reject);
    req.end();
  });
}

export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}
