// TLS handshakes with node:tls, the way a client that allows everything would make them, so the
// doctor sees what the server really accepts (NET-1): old protocol versions, weak cipher suites,
// the certificate it presents.
import { connect, getCiphers, type PeerCertificate, type SecureVersion } from 'node:tls';

export interface TlsTarget {
  readonly host: string;
  readonly port: number;
  /** PEM certificate(s) to trust besides the system's (a private CA, a self-signed test cert). */
  readonly ca?: string | undefined;
  readonly timeoutMs?: number;
}

export type HandshakeOutcome =
  | {
      readonly ok: true;
      readonly protocol: string;
      readonly cipher: string;
      readonly certificate: PeerCertificate;
      /** Chain verification against the trusted CAs (the host name is checked separately). */
      readonly authorizationError: string | undefined;
    }
  | { readonly ok: false; readonly error: string };

export function handshake(
  target: TlsTarget,
  options: { minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string } = {},
): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({
      host: target.host,
      port: target.port,
      // SNI only carries names, never addresses.
      ...(/^[\d.]+$|:/.test(target.host) ? {} : { servername: target.host }),
      minVersion: options.minVersion ?? 'TLSv1',
      maxVersion: options.maxVersion ?? 'TLSv1.3',
      // Security level 0 lets this client offer what OpenSSL would otherwise refuse to: the point is
      // to find out whether the server accepts it.
      ciphers: options.ciphers ?? 'DEFAULT:@SECLEVEL=0',
      rejectUnauthorized: false,
      ...(target.ca === undefined ? {} : { ca: target.ca }),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, error: 'timed out' });
    }, target.timeoutMs ?? 15_000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const outcome: HandshakeOutcome = {
        ok: true,
        protocol: socket.getProtocol() ?? 'unknown',
        cipher: socket.getCipher().name,
        certificate: socket.getPeerCertificate(),
        authorizationError:
          socket.authorizationError === null || socket.authorizationError === undefined
            ? undefined
            : String(socket.authorizationError),
      };
      socket.end();
      resolve(outcome);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve({ ok: false, error: error.message });
    });
  });
}

/**
 * TLS 1.2 suites we call weak: without forward secrecy (static RSA key exchange) or without an
 * AEAD mode (CBC with its padding-oracle history, RC4, 3DES, NULL, export grades). What remains is
 * ECDHE or DHE with GCM, ChaCha20-Poly1305 or CCM, the set Mozilla's "intermediate" profile allows.
 */
export function isWeakCipher(name: string): boolean {
  const n = name.toLowerCase();
  if (n.startsWith('tls_')) return false; // TLS 1.3 suites are all AEAD with forward secrecy
  return !/^(ecdhe|dhe)-/.test(n) || !/(gcm|chacha20|ccm)/.test(n);
}

export function weakClientCiphers(): string[] {
  return getCiphers()
    .filter((c) => !c.startsWith('tls_') && isWeakCipher(c))
    .map((c) => c.toUpperCase());
}

/** Every weak TLS 1.2 suite the server agrees to, found by offering them and removing each one it picks. */
export async function acceptedWeakCiphers(target: TlsTarget, limit = 8): Promise<string[]> {
  const accepted: string[] = [];
  let offered = weakClientCiphers();
  while (offered.length > 0 && accepted.length < limit) {
    const outcome = await handshake(target, {
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.2',
      ciphers: `${offered.join(':')}:@SECLEVEL=0`,
    });
    if (!outcome.ok) break;
    accepted.push(outcome.cipher);
    offered = offered.filter((c) => c !== outcome.cipher.toUpperCase());
  }
  return accepted;
}
