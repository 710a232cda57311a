import helmet from 'helmet';

// Helmet's defaults (plus a CSP that allows nothing, since the API serves no HTML) are computed
// once at start and copied onto each response: the same headers @fastify/helmet would set, without
// re-deriving them per request on the webhook hot path.
export function computeSecurityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  const middleware = helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    // HSTS is added per response, over TLS only (HSTS_HEADER): on plain http it is meaningless.
    strictTransportSecurity: false,
    // One framing policy for the API and the dashboard: never framed (FRAMING).
    xFrameOptions: { action: 'deny' },
  });
  middleware({} as never, response as never, () => undefined);
  return Object.freeze(headers);
}

/** Sent only on responses to requests that arrived over TLS (here, or at a trusted proxy). */
export const HSTS_HEADER = Object.freeze({ 'strict-transport-security': 'max-age=31536000; includeSubDomains' });

/** Never framed, by anyone: both the API and the dashboard send exactly this (clickjacking). */
export const FRAMING = Object.freeze({ xFrameOptions: 'DENY', frameAncestors: "frame-ancestors 'none'" });
