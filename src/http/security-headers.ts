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
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
  });
  middleware({} as never, response as never, () => undefined);
  return Object.freeze(headers);
}
