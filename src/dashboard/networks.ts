// OPS-11: the dashboard can be limited to trusted networks (an office range, a VPN), given as
// addresses or CIDR ranges. Outside them it does not exist: every path answers 404.
import { BlockList, isIP } from 'node:net';

export type NetworkCheck = (address: string) => boolean;

/** Parses "10.0.0.0/8, 192.168.1.7, fd00::/8"; returns the problems instead of throwing. */
export function parseNetworks(
  raw: string,
): { ok: true; networks: readonly string[] } | { ok: false; problems: readonly string[] } {
  const networks = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const problems = networks
    .filter((n) => toRule(n) === undefined)
    .map((n) => `"${n}" is not an IP address or CIDR range`);
  if (networks.length === 0) problems.push('no network given');
  return problems.length === 0 ? { ok: true, networks } : { ok: false, problems };
}

function toRule(network: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address = '', prefixText] = network.split('/');
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

export function createNetworkCheck(networks: readonly string[] | undefined): NetworkCheck {
  if (networks === undefined) return () => true;
  const list = new BlockList();
  for (const network of networks) {
    const rule = toRule(network);
    if (rule !== undefined) list.addSubnet(rule.address, rule.prefix, rule.family);
  }
  return (address) => {
    // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; match them as IPv4.
    const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}
