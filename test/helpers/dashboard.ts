// A dashboard client for HTTP-level tests: a cookie jar (the `__Host-` cookies are Secure, so
// fetch over plain loopback http would not keep them on its own), same-origin headers as a
// browser sends them, and the CSRF token read from each page as a browser's form would carry it.
import { randomBytes, randomInt } from 'node:crypto';
import type { OperatorRole } from '../../src/operators/schema.ts';
import { totpCodeAt } from '../../src/operators/totp.ts';
import type { TestGateway } from './gateway.ts';

export interface DashboardPage {
  readonly status: number;
  readonly html: string;
  readonly headers: Headers;
  readonly location: string | null;
}

/** A password the policy accepts, fresh each call (never a literal in the repository). */
// No vowels among the random characters: a random run must never spell a piece of the test
// operators' emails or names ("ada", "viewer"), which the password rules rightly refuse.
const PASSWORD_ALPHABET = 'bcfghjkmnpqrstvwxzBCFGHJKMNPQRSTVWXZ23456789';
export function strongPassword(): string {
  const random = Array.from({ length: 16 }, () => PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)]).join('');
  return `Pw-${random}!7aZ`;
}

export class DashboardClient {
  readonly cookies = new Map<string, string>();
  readonly baseUrl: string;
  csrfToken = '';
  /** Sent as Origin on every POST; change it to play a cross-site page. */
  origin: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl;
    this.origin = baseUrl;
  }

  async request(
    method: 'GET' | 'POST',
    path: string,
    form?: Record<string, string | string[]>,
    headers: Record<string, string> = {},
  ): Promise<DashboardPage> {
    const body =
      form === undefined
        ? undefined
        : new URLSearchParams(
            Object.entries(form).flatMap(
              ([k, v]): Array<[string, string]> =>
                Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]],
            ),
          );
    return this.send(method, path, {
      headers: {
        ...(method === 'POST' ? { origin: this.origin, 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      ...(body === undefined ? {} : { body: body.toString() }),
    });
  }

  /** A file upload form (multipart/form-data, as a browser builds it) with the page's CSRF token. */
  upload(
    path: string,
    file: { readonly filename: string; readonly content: Uint8Array | string; readonly type?: string },
    fields: Record<string, string> = { csrf_token: this.csrfToken },
  ): Promise<DashboardPage> {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    form.set('file', new Blob([file.content], { type: file.type ?? 'text/csv' }), file.filename);
    return this.send('POST', path, { headers: { origin: this.origin }, body: form });
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    init: { headers: Record<string, string>; body?: string | FormData },
  ): Promise<DashboardPage> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = decodeURIComponent(pair.slice(eq + 1));
      if (value === '' || /max-age=0|expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const html = await response.text();
    const csrf = /name="csrf_token" value="([^"]*)"/.exec(html);
    if (csrf?.[1] !== undefined && csrf[1] !== '') this.csrfToken = csrf[1];
    return { status: response.status, html, headers: response.headers, location: response.headers.get('location') };
  }

  get(path: string): Promise<DashboardPage> {
    return this.request('GET', path);
  }

  /** A form post carrying the page's CSRF token, as the dashboard's own forms do. */
  post(path: string, form: Record<string, string | string[]> = {}): Promise<DashboardPage> {
    return this.request('POST', path, { csrf_token: this.csrfToken, ...form });
  }

  /** A pre-session form (sign-in, second factor, enrolment): no CSRF token exists yet. */
  postOpen(path: string, form: Record<string, string>): Promise<DashboardPage> {
    return this.request('POST', path, form);
  }
}

export interface TestOperator {
  readonly id: string;
  readonly email: string;
  readonly password: string;
  readonly totpSecret: string;
  readonly recoveryCodes: readonly string[];
  readonly client: DashboardClient;
}

/**
 * An operator created the way a person is: an invite (from the CLI path, or from `invitedBy`),
 * the invitation form, sign-in, TOTP enrolment through the pages. Returns a signed-in client.
 */
export async function enrolOperator(
  gw: TestGateway,
  options: { role?: OperatorRole; email?: string; nowMs?: () => number } = {},
): Promise<TestOperator> {
  const role = options.role ?? 'owner';
  const email = options.email ?? `${role}-${randomBytes(4).toString('hex')}@merchant.example`;
  const now = options.nowMs ?? (() => gw.services.clock.nowMs());
  const invite = await gw.services.operators.inviteFromCli({ email, role });
  if (!invite.ok) throw new Error(`invite failed: ${invite.error}`);
  const client = new DashboardClient(gw.url);
  const password = strongPassword();
  const accepted = await client.postOpen(`/dashboard/enrol/${invite.token}`, { name: 'Ada Operator', password });
  if (accepted.status !== 303) throw new Error(`accepting the invite answered ${accepted.status}: ${accepted.html}`);
  const signIn = await client.postOpen('/dashboard/login', { email, password });
  if (signIn.location !== '/dashboard/login/enrol') throw new Error(`sign-in went to ${signIn.location}`);
  const enrolPage = await client.get('/dashboard/login/enrol');
  const totpSecret = /id="totp-secret">([A-Z2-7]+)</.exec(enrolPage.html)?.[1];
  if (totpSecret === undefined) throw new Error('no TOTP secret on the enrolment page');
  const enrolled = await client.postOpen('/dashboard/login/enrol', { code: totpCodeAt(totpSecret, now()) });
  if (enrolled.status !== 200) throw new Error(`enrolment answered ${enrolled.status}: ${enrolled.html}`);
  const recoveryCodes = [...enrolled.html.matchAll(/<li><code>([^<]+)<\/code><\/li>/g)].map((m) => m[1]!);
  const operator = (await gw.services.operators.list()).find((o) => o.email === email);
  if (operator === undefined) throw new Error('operator not stored');
  await client.get('/dashboard/settings'); // picks up the CSRF token
  return { id: operator.id, email, password, totpSecret, recoveryCodes, client };
}

/** Signs in again (password, then a TOTP code at `nowMs`) on a new client. */
export async function signIn(
  gw: TestGateway,
  operator: Pick<TestOperator, 'email' | 'password' | 'totpSecret'>,
  nowMs: number,
): Promise<DashboardClient> {
  const client = new DashboardClient(gw.url);
  const first = await client.postOpen('/dashboard/login', { email: operator.email, password: operator.password });
  if (first.location !== '/dashboard/login/verify')
    throw new Error(`sign-in answered ${first.status} ${first.location}`);
  const second = await client.postOpen('/dashboard/login/verify', { code: totpCodeAt(operator.totpSecret, nowMs) });
  if (second.location !== '/dashboard')
    throw new Error(`second factor answered ${second.status}: ${second.html.slice(0, 300)}`);
  await client.get('/dashboard/settings');
  return client;
}
