// NET-1 as a client sees it: protocol versions, cipher suites, the certificate and its expiry.
import { checkServerIdentity } from 'node:tls';
import { result, type CheckResult } from './check.ts';
import { acceptedWeakCiphers, handshake, type TlsTarget } from './tls-probe.ts';

const DAY_MS = 86_400_000;
/** Renewal (ACME clients renew at 30 days left) has clearly failed by then. */
export const CERT_FAIL_DAYS = 7;
export const CERT_WARN_DAYS = 30;

export interface TlsCheckInput {
  readonly url: URL;
  readonly ca?: string | undefined;
  readonly nowMs: number;
}

export function tlsTarget(url: URL, ca: string | undefined): TlsTarget {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { host, port: url.port === '' ? 443 : Number(url.port), ca };
}

export async function tlsChecks(input: TlsCheckInput): Promise<CheckResult[]> {
  if (input.url.protocol !== 'https:') {
    return [
      result(
        'tls',
        'NET-1',
        'fail',
        `${input.url.origin} is plain http, so nothing here is encrypted in transit`,
        'serve TLS (PAYWARDEN_TLS_CERT_FILE and PAYWARDEN_TLS_KEY_FILE) or through a TLS-terminating proxy, and run doctor against the https URL your clients use',
      ),
    ];
  }
  const target = tlsTarget(input.url, input.ca);
  return [await versions(target), await ciphers(target), await certificate(target, input.nowMs)];
}

async function versions(target: TlsTarget): Promise<CheckResult> {
  const offered: string[] = [];
  for (const version of ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const) {
    const outcome = await handshake(target, { minVersion: version, maxVersion: version });
    if (outcome.ok) offered.push(version);
  }
  const old = offered.filter((v) => v === 'TLSv1' || v === 'TLSv1.1');
  if (offered.length === 0)
    return result('tls.versions', 'NET-1', 'fail', 'no TLS handshake succeeded', 'check the address and port');
  if (old.length > 0)
    return result(
      'tls.versions',
      'NET-1',
      'fail',
      `the server accepts ${old.join(' and ')} (offered: ${offered.join(', ')})`,
      'set TLS 1.2 as the minimum (PAYWARDEN_TLS_MIN_VERSION, or the proxy: ssl_protocols TLSv1.2 TLSv1.3)',
    );
  if (!offered.includes('TLSv1.3'))
    return result(
      'tls.versions',
      'NET-1',
      'warn',
      `offered: ${offered.join(', ')}; TLS 1.3 is preferred`,
      'enable TLS 1.3 on the server or proxy',
    );
  return result('tls.versions', 'NET-1', 'pass', `offered: ${offered.join(', ')}`);
}

async function ciphers(target: TlsTarget): Promise<CheckResult> {
  const weak = await acceptedWeakCiphers(target);
  if (weak.length > 0)
    return result(
      'tls.ciphers',
      'NET-1',
      'fail',
      `TLS 1.2 suites without forward secrecy or without AEAD are accepted: ${weak.join(', ')}`,
      'allow only ECDHE/DHE with AES-GCM or ChaCha20-Poly1305 (Mozilla "intermediate"); the gateway itself does (src/http/tls-ciphers.ts)',
    );
  return result('tls.ciphers', 'NET-1', 'pass', 'no weak TLS 1.2 cipher suite accepted');
}

async function certificate(target: TlsTarget, nowMs: number): Promise<CheckResult> {
  const outcome = await handshake(target, { minVersion: 'TLSv1.2' });
  if (!outcome.ok)
    return result('tls.certificate', 'NET-1', 'fail', `no TLS 1.2+ handshake: ${outcome.error}`, 'check the server');
  const cert = outcome.certificate;
  const problems: string[] = [];
  if (outcome.authorizationError !== undefined)
    problems.push(`the chain does not verify (${outcome.authorizationError})`);
  const nameError = checkServerIdentity(target.host, cert);
  if (nameError !== undefined) problems.push(`it is not valid for ${target.host} (${nameError.message})`);
  const notBefore = Date.parse(cert.valid_from);
  const notAfter = Date.parse(cert.valid_to);
  const daysLeft = Math.floor((notAfter - nowMs) / DAY_MS);
  if (notBefore > nowMs) problems.push(`it is not valid before ${cert.valid_from}`);
  if (notAfter <= nowMs) problems.push(`it expired on ${cert.valid_to}`);
  else if (daysLeft < CERT_FAIL_DAYS) problems.push(`it expires in ${daysLeft} days (${cert.valid_to})`);
  if (problems.length > 0)
    return result(
      'tls.certificate',
      'NET-1',
      'fail',
      `the certificate: ${problems.join('; ')}`,
      'install a certificate from a trusted CA for this name, renewed automatically (pass --ca FILE if a private CA is intended)',
    );
  if (daysLeft < CERT_WARN_DAYS)
    return result(
      'tls.certificate',
      'NET-1',
      'warn',
      `the certificate expires in ${daysLeft} days (${cert.valid_to})`,
      'renew it now; check that automatic renewal runs',
    );
  return result(
    'tls.certificate',
    'NET-1',
    'pass',
    `valid for ${target.host}, ${daysLeft} days left (${cert.valid_to})`,
  );
}
