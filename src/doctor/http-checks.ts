// What any client of the deployment can see: security headers on the API and the dashboard (NET-1,
// NET-2, OPS-9), refused methods (NET-3), where /metrics and the dashboard answer (MON-1, OPS-11),
// and the server's clock (WHI-2: webhook timestamps and TOTP codes depend on it).
import { result, type CheckResult } from './check.ts';
import { headerValue, probe, type ProbeAnswer } from './http-probe.ts';

export interface HttpCheckInput {
  readonly url: URL;
  readonly ca?: string | undefined;
  readonly nowMs: () => number;
  /**
   * The operator says this run is from outside the networks allowed to reach /metrics and the
   * dashboard; only then can "not reachable from outside" be checked rather than assumed.
   */
  readonly outside: boolean;
}

/** HSTS shorter than this is not taken as a commitment to HTTPS (preload lists ask for a year). */
export const HSTS_MIN_SECONDS = 15_552_000;

const API_PATH = '/v1/payments';
const DASHBOARD_PATH = '/dashboard/login';

export async function httpChecks(input: HttpCheckInput): Promise<CheckResult[]> {
  const at = (path: string) => new URL(path, input.url).toString();
  const sentAt = input.nowMs();
  const api = await probe(at(API_PATH), { ca: input.ca });
  const receivedAt = input.nowMs();
  const dashboard = await probe(at(DASHBOARD_PATH), { ca: input.ca });
  return [
    headerCheck('headers.api', api, { https: input.url.protocol === 'https:', noStore: true }),
    dashboard.status === 404
      ? result(
          'headers.dashboard',
          'OPS-9',
          'skip',
          'the dashboard does not answer here (404), so its headers cannot be read from this host',
        )
      : headerCheck('headers.dashboard', dashboard, { https: input.url.protocol === 'https:', noStore: true }),
    await methodsCheck(input, at),
    await metricsExposure(input, at),
    dashboardExposure(input, dashboard),
    clockCheck(api, sentAt, receivedAt),
  ];
}

function headerCheck(check: string, answer: ProbeAnswer, expect: { https: boolean; noStore: boolean }): CheckResult {
  const problems: string[] = [];
  const h = (name: string) => headerValue(answer.headers, name);
  const hsts = h('strict-transport-security');
  const maxAge = Number(/max-age=(\d+)/i.exec(hsts ?? '')?.[1] ?? 0);
  if (hsts === undefined) problems.push('no Strict-Transport-Security');
  else if (maxAge < HSTS_MIN_SECONDS) problems.push(`Strict-Transport-Security max-age ${maxAge} s is under 180 days`);
  if (h('x-content-type-options')?.toLowerCase() !== 'nosniff') problems.push('no X-Content-Type-Options: nosniff');
  const csp = h('content-security-policy');
  if (csp === undefined) problems.push('no Content-Security-Policy');
  else if (!/frame-ancestors\s+'none'/.test(csp) && h('x-frame-options') === undefined)
    problems.push("neither frame-ancestors 'none' nor X-Frame-Options");
  if (h('referrer-policy') === undefined) problems.push('no Referrer-Policy');
  if (expect.noStore && !/no-store/.test(h('cache-control') ?? '')) problems.push('no Cache-Control: no-store (NET-2)');
  if (h('x-powered-by') !== undefined) problems.push(`X-Powered-By reveals "${h('x-powered-by')}"`);
  if (problems.length > 0)
    return result(
      check,
      'NET-1, NET-2, OPS-9',
      'fail',
      `HTTP ${answer.status}: ${problems.join('; ')}`,
      'the gateway sets all of these itself: a proxy in front is removing or overriding them; pass them through unchanged',
    );
  if (!expect.https)
    return result(
      check,
      'NET-1',
      'warn',
      'headers present, but over plain http browsers ignore Strict-Transport-Security',
      'serve https',
    );
  return result(
    check,
    'NET-1, NET-2, OPS-9',
    'pass',
    'HSTS (>= 180 days), nosniff, CSP, framing, referrer policy, no-store',
  );
}

const REFUSED_METHODS = ['TRACE', 'TRACK', 'PUT', 'PATCH', 'OPTIONS'] as const;

async function methodsCheck(input: HttpCheckInput, at: (path: string) => string): Promise<CheckResult> {
  const accepted: string[] = [];
  for (const path of ['/', API_PATH, DASHBOARD_PATH]) {
    for (const method of REFUSED_METHODS) {
      const answer = await probe(at(path), { method, ca: input.ca, headers: { 'x-doctor-probe': 'trace-me' } }).catch(
        // A server that drops the connection rather than answer has refused the method too.
        () => ({ status: 0, headers: {}, body: '' }),
      );
      // An echo of our own header is the cross-site-tracing hole whatever the status says.
      const echoed = method.startsWith('TRAC') && answer.body.includes('x-doctor-probe');
      if ((answer.status >= 200 && answer.status < 400) || echoed)
        accepted.push(`${method} ${path} -> ${answer.status}${echoed ? ' (echoed the request)' : ''}`);
    }
  }
  if (accepted.length > 0)
    return result(
      'http.methods',
      'NET-3',
      'fail',
      `methods that should be refused were accepted: ${accepted.join('; ')}`,
      'the gateway answers 405 to these; make the proxy in front refuse them too (or pass them through)',
    );
  return result(
    'http.methods',
    'NET-3',
    'pass',
    `${REFUSED_METHODS.join(', ')} refused on /, the API and the dashboard`,
  );
}

async function metricsExposure(input: HttpCheckInput, at: (path: string) => string): Promise<CheckResult> {
  const answer = await probe(at('/metrics'), { ca: input.ca });
  const served = answer.status === 200 && answer.body.includes('paywarden_');
  if (served && input.outside)
    return result(
      'network.metrics',
      'MON-1',
      'fail',
      '/metrics answered from outside the monitoring network',
      'block /metrics at the proxy (the gateway answers it to loopback only; a proxy on the same host makes every client loopback)',
    );
  if (!input.outside)
    return result(
      'network.metrics',
      'MON-1',
      served ? 'warn' : 'pass',
      served
        ? '/metrics answers this host; whether it answers the internet cannot be told from here'
        : '/metrics does not answer this host',
      served ? 'run `paywarden doctor --url <public URL> --outside` from a machine outside your networks' : '',
    );
  return result('network.metrics', 'MON-1', 'pass', `/metrics refused from outside (${answer.status})`);
}

function dashboardExposure(input: HttpCheckInput, dashboard: ProbeAnswer): CheckResult {
  const served = dashboard.status !== 404 && dashboard.status < 500;
  if (served && input.outside)
    return result(
      'network.dashboard',
      'OPS-11',
      'fail',
      `the dashboard answered from outside the allowed networks (${dashboard.status})`,
      'set PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS to your office or VPN ranges, or block /dashboard at the proxy',
    );
  if (!input.outside)
    return result(
      'network.dashboard',
      'OPS-11',
      served ? 'warn' : 'pass',
      served
        ? 'the dashboard answers this host; whether it answers the internet cannot be told from here'
        : 'the dashboard does not answer this host',
      served ? 'run doctor with --outside from a machine outside the allowed networks' : '',
    );
  return result('network.dashboard', 'OPS-11', 'pass', 'the dashboard is not served outside the allowed networks');
}

/** Skew above this makes webhook timestamp checks (300 s) and TOTP codes (30 s steps) unreliable. */
export const CLOCK_FAIL_SECONDS = 60;
export const CLOCK_WARN_SECONDS = 5;

function clockCheck(answer: ProbeAnswer, sentAtMs: number, receivedAtMs: number): CheckResult {
  const date = headerValue(answer.headers, 'date');
  const serverMs = date === undefined ? Number.NaN : Date.parse(date);
  if (Number.isNaN(serverMs))
    return result('clock.skew', 'WHI-2', 'warn', 'the server sent no readable Date header', 'check the proxy');
  // The Date header has one-second resolution and was made somewhere between sending and receiving.
  const skewSeconds = Math.max(
    0,
    Math.abs(serverMs - (sentAtMs + receivedAtMs) / 2) / 1000 - 1 - (receivedAtMs - sentAtMs) / 2000,
  );
  const rounded = Math.round(skewSeconds);
  if (skewSeconds > CLOCK_FAIL_SECONDS)
    return result(
      'clock.skew',
      'WHI-2',
      'fail',
      `the server's clock is ${rounded} s away from this machine's`,
      'run NTP (chrony or systemd-timesyncd) on the server, and on this machine',
    );
  if (skewSeconds > CLOCK_WARN_SECONDS)
    return result(
      'clock.skew',
      'WHI-2',
      'warn',
      `the server's clock is ${rounded} s away from this machine's`,
      'run NTP on both',
    );
  return result('clock.skew', 'WHI-2', 'pass', `within ${CLOCK_WARN_SECONDS} s of this machine's clock`);
}
