// The dashboard in a real browser (Debian's chromium through playwright-core): sign-in with TOTP,
// lockout, idle and absolute timeouts on a controllable clock, one session per operator, logout
// against a replayed cookie, a cross-site form, hostile data rendered inert, and the headers and
// cookie attributes as the browser received them. Screenshots of the main pages are saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { totpCodeAt } from '../../src/operators/totp.ts';
import { operatorDb } from '../../src/operators/schema.ts';
import { MAX_FAILED_ATTEMPTS, OPERATOR_ERROR_MESSAGES } from '../../src/operators/accounts.ts';
import { browserUnavailable, launchChromium, screenshotDir, signInThroughPages } from '../helpers/browser.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';
import { enrolOperator, strongPassword } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const HOSTILE_SCRIPT = '<script>window.pwned=1</script>';
const HOSTILE_ATTR = '"><img src=x onerror="window.pwned=1">';
const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('the dashboard in chromium', { skip }, () => {
  const clock = manualClock(Date.now());
  let gw: TestGateway;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    gw = await startTestGateway(sqlite!, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  async function newPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    contexts.push(context);
    const page = await context.newPage();
    // Any script that runs from data, or any dialog, fails the test loudly.
    page.on('dialog', (dialog) => {
      throw new Error(`a dialog opened: ${dialog.message()}`);
    });
    return page;
  }

  async function createHostilePayment(): Promise<string> {
    const created = await gw.api('POST', '/v1/payments', {
      amount: 1_250_050,
      currency: 'NGN',
      reference: `order-${Date.now()}`,
      customer: { email: 'ada@customer.example', name: "Ada O'Brien" },
      redirect_url: 'https://merchant.example/thanks',
      description: HOSTILE_SCRIPT,
      metadata: { note: HOSTILE_SCRIPT, cart: HOSTILE_ATTR },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // The API's allowlist refuses markup in names; the pages must be safe even if such a name
    // reaches the database another way (an older version, written before personal data was
    // sealed at rest), so the row is rewritten directly as such a version left it.
    await gw.services.database.db
      .updateTable('payments')
      .set({
        customer_id: null,
        customer_email_index: null,
        customer_email: 'ada@customer.example',
        customer_name: HOSTILE_ATTR,
        customer_phone: null,
        metadata_json: JSON.stringify({ note: HOSTILE_SCRIPT, cart: HOSTILE_ATTR }),
      })
      .where('id', '=', created.body.id)
      .execute();
    return created.body.id as string;
  }

  test('an invited owner sets a password, enrols TOTP, sees recovery codes once and signs in; pages are screenshotted', async () => {
    const invite = await gw.services.operators.inviteFromCli({ email: 'owner@merchant.example', role: 'owner' });
    assert.ok(invite.ok);
    const page = await newPage();
    const shots = screenshotDir();

    await page.goto(`${gw.url}/dashboard/enrol/${invite.token}`);
    await page.fill('input[name=name]', 'Ada Owner');
    await page.fill('input[name=password]', 'short');
    // The browser's own minlength check would stop the form; the server's rules are what we test.
    await page.$eval('#accept-invite input[name=password]', (el) => el.removeAttribute('minlength'));
    await page.click('#accept-invite button[type=submit]');
    assert.match(
      (await page.textContent('#password-rules')) ?? '',
      /at least 12 characters/,
      'each failed rule is named',
    );

    const password = strongPassword();
    await page.fill('input[name=name]', 'Ada Owner');
    await page.fill('input[name=password]', password);
    await page.click('#accept-invite button[type=submit]');
    await page.waitForURL('**/dashboard/login?notice=enrolled');

    await page.fill('input[name=email]', 'owner@merchant.example');
    await page.fill('input[name=password]', password);
    await page.screenshot({ path: join(shots, 'sign-in.png') });
    await page.click('#sign-in button[type=submit]');
    await page.waitForURL('**/dashboard/login/enrol');
    assert.ok(await page.isVisible('#totp-qr'), 'the QR code is shown');
    const secret = (await page.textContent('#totp-secret'))!.trim();
    // Even a throwaway test account's key stays out of pictures that get committed.
    await page.screenshot({
      path: join(shots, 'enrol-totp.png'),
      mask: [page.locator('#totp-secret'), page.locator('#totp-qr')],
    });
    await page.fill('input[name=code]', totpCodeAt(secret, clock.nowMs()));
    await page.click('#enrol button[type=submit]');
    const codes = await page.locator('#recovery-codes li').allTextContents();
    assert.equal(codes.length, 10);
    await page.click('#continue');
    await page.waitForURL(`${gw.url}/dashboard`);

    // Some traffic so the pages have something to show: an endpoint receiving events, one paid
    // payment, one with hostile data.
    const receiver = await startReceiver();
    assert.equal(
      (
        await gw.api('POST', '/v1/webhook_endpoints', {
          url: `${receiver.url}/paywarden-events`,
          events: ['payment.succeeded', 'payment.failed'],
        })
      ).status,
      201,
    );
    const paid = await gw.api('POST', '/v1/payments', {
      amount: 500_000,
      currency: 'NGN',
      reference: 'order-paid-1',
      customer: { email: 'bola@customer.example', name: 'Bola Ade' },
      redirect_url: 'https://merchant.example/thanks',
    });
    await payAtCheckout(paid.body.checkout_url);
    await waitUntil(
      async () =>
        (
          await gw.services.database.db
            .selectFrom('provider_webhooks')
            .select('id')
            .where('provider_reference', '=', paid.body.id)
            .execute()
        ).length === 1,
      'the webhook',
    );
    await gw.services.worker.drain();
    await createHostilePayment();
    // And a job that gave up, as the Jobs page shows one.
    await gw.services.queue.enqueue(gw.services.database.db, { kind: 'legacy_export', payload: {} });
    await gw.services.worker.drain();

    for (const [path, name] of [
      ['/dashboard', 'overview'],
      ['/dashboard/payments', 'payments'],
      [`/dashboard/payments/${paid.body.id}`, 'payment-detail'],
      ['/dashboard/webhooks-in', 'webhooks-in'],
      ['/dashboard/webhooks-out', 'webhooks-out'],
      ['/dashboard/endpoints', 'webhook-endpoints'],
      ['/dashboard/keys', 'api-keys'],
      ['/dashboard/operators', 'operators'],
      ['/dashboard/jobs', 'jobs'],
      ['/dashboard/audit', 'audit-log'],
      ['/dashboard/settings', 'settings'],
    ] as const) {
      const response = await page.goto(`${gw.url}${path}`);
      assert.equal(response?.status(), 200, path);
      await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
    }
    assert.match(await page.content(), /Ada Owner|owner@merchant\.example/);
    assert.equal(receiver.received.length, 1, 'the merchant endpoint got the event');
    await receiver.close();
  });

  test('headers, CSP and the session cookie as the browser received them', async () => {
    const op = await enrolOperator(gw, { role: 'viewer' });
    const page = await newPage();
    await signInThroughPages(page, gw.url, op, clock);
    const response = await page.goto(`${gw.url}/dashboard/payments`);
    const headers = response!.headers();
    assert.match(headers['content-security-policy']!, /default-src 'none'/);
    assert.match(headers['content-security-policy']!, /frame-ancestors 'none'/);
    assert.doesNotMatch(headers['content-security-policy']!, /unsafe-inline/);
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(headers['x-frame-options'], 'DENY');
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === '__Host-paywarden_session');
    assert.ok(session, `session cookie kept: ${JSON.stringify(cookies.map((c) => c.name))}`);
    assert.equal(session.secure, true);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(session.expires, -1, 'a browser-session cookie; the server enforces the timeouts');
    assert.ok(!(await page.content()).includes(session.value), 'the token never appears in a page');
    assert.equal(await page.evaluate('document.cookie.includes("paywarden_session")'), false, 'script cannot read it');
  });

  test('customer names, descriptions and metadata with markup render inert', async () => {
    const id = await createHostilePayment();
    const op = await enrolOperator(gw, { role: 'viewer' });
    const page = await newPage();
    await signInThroughPages(page, gw.url, op, clock);
    await page.goto(`${gw.url}/dashboard/payments/${id}`);
    assert.equal(await page.textContent('#customer-name'), HOSTILE_ATTR, 'shown as text');
    assert.ok((await page.locator('#metadata').textContent())!.includes(HOSTILE_SCRIPT));
    assert.equal(await page.locator('main img').count(), 0, 'no element was created from data');
    assert.equal(await page.evaluate('window.pwned'), undefined, 'no script ran');
    await page.goto(`${gw.url}/dashboard/payments?q=ada%40customer.example`);
    assert.equal(await page.evaluate('window.pwned'), undefined);
    assert.equal(await page.locator('main img').count(), 0);
  });

  test(`an account locks after ${MAX_FAILED_ATTEMPTS} failures; only the right password is told so, others get the generic message`, async () => {
    const op = await enrolOperator(gw, { role: 'viewer' });
    const page = await newPage();
    await page.goto(`${gw.url}/dashboard/login`);
    let message = '';
    for (let i = 0; i < MAX_FAILED_ATTEMPTS; i += 1) {
      await page.fill('input[name=email]', op.email);
      await page.fill('input[name=password]', `Wrong-guess-${i}!X`);
      await page.click('#sign-in button[type=submit]');
      message = (await page.textContent('#problem'))!;
    }
    assert.equal(message, OPERATOR_ERROR_MESSAGES.invalid_credentials, 'the generic message');
    await page.fill('input[name=email]', op.email);
    await page.fill('input[name=password]', op.password);
    await page.click('#sign-in button[type=submit]');
    assert.equal(
      await page.textContent('#problem'),
      OPERATOR_ERROR_MESSAGES.locked,
      'the right password: told it is locked',
    );
    assert.ok(page.url().endsWith('/dashboard/login'), 'no second step offered');
    await page.fill('input[name=email]', op.email);
    await page.fill('input[name=password]', 'Still-wrong-1!X');
    await page.click('#sign-in button[type=submit]');
    assert.equal(
      await page.textContent('#problem'),
      message,
      'a wrong password on a locked account: the generic message',
    );
    await page.fill('input[name=email]', 'nobody@merchant.example');
    await page.fill('input[name=password]', op.password);
    await page.click('#sign-in button[type=submit]');
    assert.equal(await page.textContent('#problem'), message, 'an unknown email gets the same message');
    const row = await gw.services.database.db
      .selectFrom('audit_log')
      .select('action')
      .where('object_id', '=', op.id)
      .where('action', '=', 'operator.locked')
      .execute();
    assert.equal(row.length, 1);
  });

  test('the idle timeout and the absolute timeout end sessions on the server and say why', async () => {
    const op = await enrolOperator(gw, { role: 'viewer' });
    const page = await newPage();
    await signInThroughPages(page, gw.url, op, clock);
    clock.advance(15 * 60_000);
    await page.goto(`${gw.url}/dashboard/payments`);
    assert.ok(page.url().includes('/dashboard/login?ended=idle_timeout'), page.url());
    assert.match((await page.textContent('#notice'))!, /without activity/);

    await signInThroughPages(page, gw.url, op, clock);
    // Active every 10 minutes: never idle, yet the session ends 10 hours after sign-in.
    for (let elapsed = 0; elapsed < 10 * 60 * 60_000 - 10 * 60_000; elapsed += 10 * 60_000) {
      clock.advance(10 * 60_000);
      const response = await page.goto(`${gw.url}/dashboard/payments`);
      assert.ok(
        page.url().endsWith('/dashboard/payments'),
        `still signed in after ${elapsed / 60_000 + 10} minutes (${response?.status()})`,
      );
    }
    clock.advance(10 * 60_000 + 30_000);
    await page.goto(`${gw.url}/dashboard/payments`);
    assert.ok(page.url().includes('/dashboard/login?ended=absolute_timeout'), page.url());
    assert.match((await page.textContent('#notice'))!, /maximum length/);
  });

  test('a second sign-in ends the first, whose next request explains why', async () => {
    const op = await enrolOperator(gw, { role: 'viewer' });
    const first = await newPage();
    const second = await newPage();
    await signInThroughPages(first, gw.url, op, clock);
    await signInThroughPages(second, gw.url, op, clock);
    await first.goto(`${gw.url}/dashboard/payments`);
    assert.ok(first.url().includes('ended=replaced'), first.url());
    assert.match((await first.textContent('#notice'))!, /signed in somewhere else/);
    await second.goto(`${gw.url}/dashboard/payments`);
    assert.ok(second.url().endsWith('/dashboard/payments'), 'the newer session goes on');
  });

  test('logout ends the session on the server: the old cookie, replayed, opens nothing', async () => {
    const op = await enrolOperator(gw, { role: 'viewer' });
    const page = await newPage();
    await signInThroughPages(page, gw.url, op, clock);
    const saved = await page.context().cookies();
    await page.click('#logout');
    await page.waitForURL('**/dashboard/login?ended=logout');

    const replay = await newPage();
    await replay.context().addCookies(saved);
    await replay.goto(`${gw.url}/dashboard/payments`);
    assert.ok(replay.url().includes('/dashboard/login'), `replayed cookie was refused (${replay.url()})`);
    assert.equal(await replay.locator('#payments').count(), 0);
  });

  test('a form on another site that posts to the dashboard is refused and changes nothing', async () => {
    const op = await enrolOperator(gw, { role: 'owner' });
    const page = await newPage();
    await signInThroughPages(page, gw.url, op, clock);
    const keysBefore = (await gw.services.keys.list()).length;
    // The attacker's page, on another origin (localhost rather than 127.0.0.1, another port).
    const evil: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<form method="post" action="${gw.url}/dashboard/keys"><input name="name" value="stolen"><input name="mode" value="test"><input name="csrf_token" value="guess"><button id="go">Win a prize</button></form>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const port = (evil.address() as { port: number }).port;
      await page.goto(`http://localhost:${port}/`);
      const [response] = await Promise.all([
        page.waitForResponse((r) => r.url().startsWith(`${gw.url}/dashboard/keys`)),
        page.click('#go'),
      ]);
      assert.equal(response.status(), 403);
      assert.match(await page.content(), /did not come from a dashboard page/);
    } finally {
      evil.close();
    }
    assert.equal((await gw.services.keys.list()).length, keysBefore, 'no key was created');
  });

  test('a passkey is added in settings and then signs in instead of the code', async () => {
    // WebAuthn refuses IP addresses as relying-party ids, so this browser uses the name localhost.
    const base = gw.url.replace('127.0.0.1', 'localhost');
    const op = await enrolOperator(gw, { role: 'developer' });
    const page = await newPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });

    await signInThroughPages(page, base, op, clock);
    await page.goto(`${base}/dashboard/settings`);
    assert.equal(await page.locator('#passkeys tr').count(), 0);
    await page.fill('#add-passkey input[name=name]', 'Laptop');
    await page.click('#add-passkey button[type=submit]');
    await page.waitForSelector('#passkeys tr');
    assert.match((await page.textContent('#passkeys'))!, /Laptop/);

    await page.click('#logout');
    await page.waitForURL('**/dashboard/login?ended=logout');
    await page.fill('input[name=email]', op.email);
    await page.fill('input[name=password]', op.password);
    await page.click('#sign-in button[type=submit]');
    await page.waitForURL('**/dashboard/login/verify');
    // A forged answer to a real challenge is refused and counted like a wrong code.
    const failuresBefore = (
      await operatorDb(gw.services.database.db)
        .selectFrom('operators')
        .select('failed_attempts')
        .where('id', '=', op.id)
        .executeTakeFirstOrThrow()
    ).failed_attempts;
    const forgedStatus = await page.evaluate(`(async () => {
      const post = (url, body) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const { options } = await (await post('/dashboard/login/passkey/options', {})).json();
      const forged = { id: options.allowCredentials[0].id, rawId: options.allowCredentials[0].id, type: 'public-key', response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' }, clientExtensionResults: {} };
      return (await post('/dashboard/login/passkey', { response: forged })).status;
    })()`);
    assert.equal(forgedStatus, 401);
    const failuresAfter = (
      await operatorDb(gw.services.database.db)
        .selectFrom('operators')
        .select('failed_attempts')
        .where('id', '=', op.id)
        .executeTakeFirstOrThrow()
    ).failed_attempts;
    assert.equal(failuresAfter, failuresBefore + 1);
    // A mistyped code does not take the passkey away: the page after it still offers one.
    await page.fill('#second-factor input[name=code]', '000000');
    await page.click('#second-factor button[type=submit]');
    await page.waitForSelector('.error');
    assert.equal(await page.locator('#passkey-sign-in').count(), 1, 'the passkey button is still there');
    await page.click('#passkey-sign-in');
    await page.waitForURL(`${base}/dashboard`);
    const [login] = await gw.services.database.db
      .selectFrom('audit_log')
      .select('details_json')
      .where('actor_id', '=', op.id)
      .where('action', '=', 'operator.login')
      .orderBy('created_at', 'desc')
      .limit(1)
      .execute();
    assert.equal(JSON.parse(login!.details_json).method, 'passkey');
    const stored = await gw.services.operators.passkeys.list(op.id);
    assert.ok(stored[0]?.lastUsedAt !== null, 'use is recorded');
  });
});
