import pino, { type Logger } from 'pino';

// Redaction is the second line of defence after the Secret wrapper (LOG-6): whatever reaches a
// log line under these paths is censored, even if a future change logs a raw header object.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["verif-hash"]',
  'req.headers["flutterwave-signature"]',
  'req.headers["idempotency-key"]',
  'req.headers["x-api-key"]',
  'req.headers["x-signature"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  // Secret-named fields, at the top level and one level down.
  ...['secret', 'secretKey', 'secretHash', 'password', 'token', 'apiKey', 'authorization'].flatMap((name) => [
    name,
    `*.${name}`,
  ]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'paywarden' } },
    destination,
  );
}

export type { Logger };
