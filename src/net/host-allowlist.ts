// Issue 16 §4: the dashboard answers only at its own public host names. A page served under any
// other Host (a DNS-rebinding name that resolves to this gateway, a stray virtual host, a spoofed
// header feeding links or the passkey relying party) is refused before anything is rendered. The
// API and the provider webhooks do not check: they carry no ambient credential (API keys and
// signatures, never cookies), which is what a rebinding page would borrow.
//
// Entries: `host` (any port) or `host:port` (that port only), IPv6 in brackets. The default is the
// public URL's host name; in test mode localhost, 127.0.0.1 and [::1] are added, so a developer's
// own machine always reaches it.

export interface HostEntry {
  readonly hostname: string;
  readonly port: string | undefined;
}

const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];

/** `Host` header text into host name and port, lower-cased, a trailing dot dropped; undefined if malformed. */
export function parseHost(text: string): HostEntry | undefined {
  const value = text.trim().toLowerCase();
  const match = /^(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?\.?)(?::([0-9]{1,5}))?$/.exec(value);
  if (match === null) return undefined;
  return { hostname: match[1]!.replace(/\.$/, ''), port: match[2] };
}

export function dashboardHosts(config: {
  readonly publicUrl: string;
  readonly liveEnabled: boolean;
  readonly dashboardHosts: readonly HostEntry[] | undefined;
}): readonly HostEntry[] {
  const configured = config.dashboardHosts ?? [{ hostname: new URL(config.publicUrl).hostname, port: undefined }];
  const local = config.liveEnabled ? [] : LOCAL_HOSTS.map((hostname) => ({ hostname, port: undefined }));
  return [...configured, ...local];
}

export function createHostMatcher(entries: readonly HostEntry[]): (hostHeader: string | undefined) => boolean {
  return (hostHeader) => {
    const host = hostHeader === undefined ? undefined : parseHost(hostHeader);
    if (host === undefined) return false;
    return entries.some((e) => e.hostname === host.hostname && (e.port === undefined || e.port === host.port));
  };
}

/** PAYWARDEN_DASHBOARD_HOSTS: comma-separated entries, each checked. */
export function parseHostList(raw: string, problems: string[], name: string): readonly HostEntry[] | undefined {
  const entries: HostEntry[] = [];
  for (const item of raw.split(',').map((h) => h.trim())) {
    const entry = parseHost(item);
    if (item === '' || entry === undefined)
      problems.push(
        `${name}: ${JSON.stringify(item.slice(0, 80))} is not a host name like pay.example.com or pay.example.com:8443`,
      );
    else entries.push(entry);
  }
  return entries.length === 0 ? undefined : entries;
}
