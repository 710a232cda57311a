// Where we may deliver merchant events (WHO-3, SSRF). Live mode: https to public addresses only.
// Test mode, while live mode is off (a developer's machine): anything a developer points at (http,
// localhost, the LAN). Test mode once live mode is enabled (a deployment, inside its network):
// loopback and the operator's allowlist only, so a test key cannot reach the internal network.
// Link-local (169.254.0.0/16, fe80::/10) and cloud metadata addresses are refused in every mode:
// they hold the host's own credentials and are never a webhook receiver.
//
// Two checks, and every delivery needs both, because each alone is bypassable:
//   1. checkDeliveryUrl, on the URL, before each attempt (not only when the URL is saved): it
//      catches IP literals (http://127.0.0.1, http://[::1], and http://2130706433/ or
//      http://0x7f.1/, which WHATWG URL normalises to 127.0.0.1). An IP-literal host never goes
//      through DNS, so a lookup hook never sees it; a peer's DNS-only guard fell to exactly that.
//   2. the guarded dispatcher, at connect time, on the RESOLVED addresses: it catches a name that
//      resolves (or is re-pointed after the URL was saved: DNS rebinding) to a private address.
//      Its connector also refuses IP literals, as a second line should check 1 ever be skipped.
import { lookup as systemLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { createAddressMatcher, parseIp, type Cidr } from '../net/addresses.ts';
import { Agent, buildConnector } from 'undici';
import { classifyAddress, type AddressClass } from '../net/address-class.ts';

export { classifyAddress } from '../net/address-class.ts';
export type { AddressClass } from '../net/address-class.ts';

export interface DeliveryPolicy {
  readonly mode: 'test' | 'live';
  /**
   * Test mode only: 'open' while live mode is off, 'restricted' once it is on (loopback and
   * `allowedNetworks` only). Absent means 'open'.
   */
  readonly testTargets?: 'open' | 'restricted';
  /** PAYWARDEN_TEST_WEBHOOK_ALLOWED_NETWORKS: where restricted test-mode targets may also be. */
  readonly allowedNetworks?: readonly Cidr[];
}

export type UrlCheckFailure =
  | 'invalid_url'
  | 'https_required'
  | 'credentials_in_url'
  | 'forbidden_address'
  | 'port_not_allowed';
export type UrlCheck = { ok: true; url: URL } | { ok: false; reason: UrlCheckFailure };

/** Resolves a name to all its addresses; injectable so tests can play DNS. */
export type ResolveHost = (hostname: string, family: 0 | 4 | 6) => Promise<readonly LookupAddress[]>;

export interface GuardedDispatcherOptions {
  readonly connectTimeoutMs?: number;
  readonly resolveHost?: ResolveHost;
  /** Told the address of every connection made, keyed by `originKey` of its URL. */
  readonly onConnected?: (origin: string, remoteAddress: string | undefined) => void;
}

/** The key undici pools connections by, from a URL or from its connect options. */
export function originKey(protocol: string, hostname: string, port: string | number | undefined | null): string {
  const scheme = protocol.replace(/:$/, '');
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const portText =
    port === undefined || port === null || port === '' ? (scheme === 'https' ? '443' : '80') : String(port);
  return `${scheme}://${host}:${portText}`;
}

const MAX_URL_LENGTH = 2048;
// Names that by definition never reach the public internet (RFC 6761 localhost, RFC 6762 .local,
// RFC 8375 home.arpa, ICANN's 2024 .internal reservation) or conventionally don't (localdomain).
const LOCAL_NAME = /(?:^|\.)(?:localhost|local|internal|home\.arpa|localdomain)$/;

export class SsrfBlockedError extends Error {
  readonly code = 'ERR_SSRF_BLOCKED';
  readonly hostname: string;
  readonly address: string;
  readonly addressClass: AddressClass;

  constructor(hostname: string, address: string) {
    const addressClass = classifyAddress(address);
    super(
      hostname === address
        ? `refusing to connect to ${address}: a ${addressClass} address`
        : `refusing to connect to ${hostname}: it resolves to ${address}, a ${addressClass} address`,
    );
    this.name = 'SsrfBlockedError';
    this.hostname = hostname;
    this.address = address;
    this.addressClass = addressClass;
  }
}

const matchers = new WeakMap<readonly Cidr[], (ip: string) => boolean>();
function inAllowedNetworks(ip: string, cidrs: readonly Cidr[] | undefined): boolean {
  if (cidrs === undefined) return false;
  let match = matchers.get(cidrs);
  if (match === undefined) matchers.set(cidrs, (match = createAddressMatcher(cidrs)));
  return match(ip);
}

/** Whether a delivery may connect to this resolved address under the policy. */
export function isAddressAllowed(ip: string, policy: DeliveryPolicy): boolean {
  const addressClass = classifyAddress(ip);
  if (addressClass === 'link_local' || addressClass === 'metadata') return false;
  if (policy.mode === 'live') return addressClass === 'public';
  if (policy.testTargets !== 'restricted') return true;
  return addressClass === 'loopback' || inAllowedNetworks(ip, policy.allowedNetworks);
}

/** Whether responses from this address may be kept and shown (an excerpt): public ones only. */
export function isPublicAddress(ip: string): boolean {
  return classifyAddress(ip) === 'public';
}

/** What to tell the merchant when a URL is refused, in the words of the policy that refused it. */
export function describeRefusal(reason: UrlCheckFailure, policy: DeliveryPolicy): string {
  switch (reason) {
    case 'https_required':
      return 'Live-mode endpoints must use https.';
    case 'credentials_in_url':
      return 'The URL must not contain a user name or password.';
    case 'port_not_allowed':
      return policy.mode === 'live'
        ? 'Live-mode endpoints must use port 443 or a port from 1024 up.'
        : 'The URL names port 0, which cannot receive anything.';
    case 'forbidden_address':
      if (policy.mode === 'live')
        return 'Live-mode endpoints must be public addresses: private, loopback, link-local and reserved ones are refused.';
      return policy.testTargets === 'restricted'
        ? 'This deployment has live mode enabled, so test-mode endpoints may only point at loopback or the networks in PAYWARDEN_TEST_WEBHOOK_ALLOWED_NETWORKS.'
        : 'Endpoints cannot point at link-local or cloud metadata addresses.';
    case 'invalid_url':
      return 'The URL must be an absolute http or https URL of at most 2048 characters.';
  }
}

/** The URL-level half of the guard; run it before every delivery attempt, not only on save. */
export function checkDeliveryUrl(raw: string, policy: DeliveryPolicy): UrlCheck {
  if (typeof raw !== 'string' || raw.length > MAX_URL_LENGTH) return { ok: false, reason: 'invalid_url' };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'invalid_url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, reason: 'invalid_url' };
  // Credentials in the URL end up in logs, the dashboard and the audit trail.
  if (url.username !== '' || url.password !== '') return { ok: false, reason: 'credentials_in_url' };
  if (url.port === '0') return { ok: false, reason: 'port_not_allowed' };
  // WHATWG URL has already lower-cased the host and turned every IPv4 spelling into a dotted quad.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const literal = parseIp(host) !== undefined;
  if (policy.mode === 'test') {
    if (literal) return isAddressAllowed(host, policy) ? { ok: true, url } : { ok: false, reason: 'forbidden_address' };
    // Restricted: a single-label or local name is resolved at connect time and judged then; a
    // .local name may well be loopback, so it is not refused here.
    return { ok: true, url };
  }

  if (url.protocol !== 'https:') return { ok: false, reason: 'https_required' };
  // 443 or an unprivileged port: a merchant's receiver is never SSH, SMTP or a database.
  if (url.port !== '' && Number(url.port) < 1024) return { ok: false, reason: 'port_not_allowed' };
  if (literal) return isAddressAllowed(host, policy) ? { ok: true, url } : { ok: false, reason: 'forbidden_address' };
  // A single-label name ("redis", "db") is completed by the resolver's search domains: intranet.
  if (LOCAL_NAME.test(host) || !host.includes('.')) return { ok: false, reason: 'forbidden_address' };
  return { ok: true, url };
}

const systemResolve: ResolveHost = (hostname, family) => systemLookup(hostname, { all: true, family });

/**
 * A `lookup` for net/tls.connect that resolves every address of the name and fails the
 * connection with ERR_SSRF_BLOCKED if ANY of them is not allowed: checking only the first would
 * let a name with one public and one private record pass the check and connect to the other.
 */
export function createGuardedLookup(policy: DeliveryPolicy, resolveHost: ResolveHost = systemResolve): LookupFunction {
  return (hostname, options, callback) => {
    const family =
      options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
    resolveHost(hostname, family).then(
      (addresses) => {
        const blocked = addresses.find((entry) => !isAddressAllowed(entry.address, policy));
        const first = addresses[0];
        // Leave the promise chain first, so an exception in net's callback is not swallowed.
        process.nextTick(() => {
          if (blocked !== undefined) return callback(new SsrfBlockedError(hostname, blocked.address), '');
          if (first === undefined)
            return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), '');
          if (options.all === true)
            return callback(
              null,
              addresses.map((entry) => ({ address: entry.address, family: entry.family })),
            );
          return callback(null, first.address, first.family);
        });
      },
      (error: NodeJS.ErrnoException) => process.nextTick(() => callback(error, '')),
    );
  };
}

/**
 * An undici Agent for deliveries under the policy: names are resolved through
 * `createGuardedLookup`, and IP-literal hosts (which skip lookup) are checked by the connector.
 * It follows no redirects (undici's `request` never does), so a 3xx cannot bounce us inside.
 */
export function createGuardedDispatcher(policy: DeliveryPolicy, options: GuardedDispatcherOptions = {}): Agent {
  const connectGuarded = buildConnector({
    timeout: options.connectTimeoutMs ?? 10_000,
    lookup: createGuardedLookup(policy, options.resolveHost),
  });
  const connect: buildConnector.connector = (connectOptions, callback) => {
    // undici has already stripped the brackets of an IPv6 literal.
    const host = connectOptions.hostname;
    if (parseIp(host) !== undefined && !isAddressAllowed(host, policy)) {
      process.nextTick(() => callback(new SsrfBlockedError(host, host), null));
      return;
    }
    connectGuarded(connectOptions, (error, socket) => {
      if (error === null && options.onConnected !== undefined)
        options.onConnected(
          originKey(connectOptions.protocol, host, connectOptions.port),
          (socket as { remoteAddress?: string }).remoteAddress,
        );
      error === null ? callback(null, socket!) : callback(error, null);
    });
  };
  return new Agent({ connect });
}

/** True when an error (or any error in its `cause` chain) is an SSRF refusal. */
export function isSsrfBlocked(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth += 1) {
    if ((current as { code?: unknown }).code === 'ERR_SSRF_BLOCKED') return true;
  }
  return false;
}
