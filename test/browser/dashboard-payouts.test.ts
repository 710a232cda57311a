// An operator's payout work in a real browser (Debian's chromium through playwright-core): sign in,
// open Payouts from the navigation, filter to the payouts in review, open one, read its timeline,
// resolve it with a reason; find a payout that was never sent by its reference and cancel it.
// Nothing the strict CSP refuses happens on the way (no inline script or style, no violation).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { browserUnavailable, launchChromium, screenshotDir, signedInPage } from '../helpers/browser.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { flutterwavePayoutKit } from '../helpers/payout-kits.ts';
import { payoutsIn } from '../helpers/payout-states.ts';

const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('payouts in the dashboard, in chromium', { skip }, () => {
  const clock = manualClock(Date.UTC(2026, 5, 1, 9));
  let gw: TestGateway;
  let browser: Browser;
  let finance: TestOperator;
  let inReview = '';
  let neverSent = '';
  const problems: string[] = [];

  before(async () => {
    gw = await startTestGateway(sqlite!, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
    const beneficiary = (await gw.api('POST', '/v1/beneficiaries', flutterwavePayoutKit.beneficiary)).body.id;
    const base = { provider: 'flutterwave', beneficiary, currency: 'NGN' };
    const made = await payoutsIn(gw, clock, [
      { ...base, status: 'requires_review', reference: 'order-7781-review' },
      { ...base, status: 'succeeded', reference: 'order-7782-paid' },
      { ...base, status: 'pending', reference: 'order-7783-hold-back' },
    ]);
    inReview = made[0]!;
    neverSent = made[2]!;
    await enrolOperator(gw, { role: 'owner' });
    finance = await enrolOperator(gw, { role: 'finance' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** Signed in as finance, with every console error and CSP report from here on collected. */
  async function financePage(): Promise<Page> {
    const page = await signedInPage(browser, gw.url, finance, clock);
    page.on('console', (message) => {
      // The browser asks for /favicon.ico on its own; the dashboard has none (a 404 it logs).
      if (message.location().url.endsWith('/favicon.ico')) return;
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text()))
        problems.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => problems.push(error.message));
    return page;
  }

  test('finance finds the payout in review, reads its timeline and resolves it with a reason', async () => {
    const page = await financePage();
    await page.click('nav a[href="/dashboard/payouts"]');
    await page.waitForURL('**/dashboard/payouts');
    assert.equal(await page.locator('#payouts tbody tr').count(), 3);
    await page.selectOption('#payout-filters select[name=status]', 'requires_review');
    await page.click('#payout-filters button[type=submit]');
    await page.waitForURL('**/dashboard/payouts?status=requires_review**');
    assert.equal(await page.locator('#payouts tbody tr').count(), 1);
    await page.screenshot({ path: join(screenshotDir(), 'dashboard-payouts.png'), fullPage: true });

    await page.click(`#payouts a[href="/dashboard/payouts/${inReview}"]`);
    await page.waitForURL(`**/dashboard/payouts/${inReview}`);
    assert.equal(await page.textContent('h1'), 'Payout order-7781-review');
    assert.match((await page.textContent('#payout-status')) ?? '', /^requires_review/);
    assert.match((await page.textContent('#beneficiary-account')) ?? '', /ending 0031$/);
    // The timeline: what was sent, what the provider answered, and what was done, in order.
    assert.ok((await page.locator('#attempts tbody tr').count()) >= 1);
    assert.ok((await page.locator('#checks tbody tr').count()) >= 2, 'the create call and the status queries');
    assert.match((await page.textContent('#object-events')) ?? '', /payout\.requires_review/);
    assert.match((await page.textContent('#object-audit')) ?? '', /payout\.create/);
    // The stylesheet applied under the CSP (a status is coloured only through it).
    type Styles = { getComputedStyle(el: unknown): { color: string } };
    const colour = (selector: string) =>
      page
        .locator(selector)
        .first()
        .evaluate((el) => (globalThis as unknown as Styles).getComputedStyle(el).color);
    assert.notEqual(await colour('#payout-status'), await colour('#payout th'));
    await page.screenshot({ path: join(screenshotDir(), 'dashboard-payout.png'), fullPage: true });

    await page.selectOption('#resolve-payout select[name=outcome]', 'failed');
    await page.fill('#resolve-payout input[name=reason]', 'Provider support: the transfer never left');
    await page.click('#resolve-payout button[type=submit]');
    await page.waitForURL(`**/dashboard/payouts/${inReview}`);
    assert.match((await page.textContent('#payout-status')) ?? '', /^failed/);
    assert.match((await page.textContent('#object-audit')) ?? '', /Provider support: the transfer never left/);
    assert.equal(await page.locator('#resolve-payout').count(), 0, 'no second decision offered');
    assert.equal(await page.locator('#new-attempt').count(), 1, 'a new attempt is now possible');
    assert.deepEqual(problems, []);
  });

  test('finance searches a payout by its reference and cancels it before it is sent', async () => {
    const page = await financePage();
    await page.goto(`${gw.url}/dashboard/payouts`);
    await page.fill('#payout-filters input[name=q]', 'order-7783-hold-back');
    await page.click('#payout-filters button[type=submit]');
    await page.waitForURL('**/dashboard/payouts?**q=order-7783-hold-back**');
    assert.equal(await page.locator('#payouts tbody tr').count(), 1);
    await page.click(`#payouts a[href="/dashboard/payouts/${neverSent}"]`);
    await page.waitForURL(`**/dashboard/payouts/${neverSent}`);
    assert.match((await page.textContent('#payout-status')) ?? '', /^pending/);
    // The browser's own check stops an empty reason before it reaches us.
    await page.click('#cancel-payout button[type=submit]');
    assert.equal(page.url(), `${gw.url}/dashboard/payouts/${neverSent}`);
    assert.match((await page.textContent('#payout-status')) ?? '', /^pending/);
    await page.fill('#cancel-payout input[name=reason]', 'Merchant asked to hold this one back');
    await page.click('#cancel-payout button[type=submit]');
    await page.waitForURL(`**/dashboard/payouts/${neverSent}`);
    assert.match((await page.textContent('#payout-status')) ?? '', /^cancelled/);
    assert.match((await page.textContent('#object-audit')) ?? '', /Merchant asked to hold this one back/);
    assert.equal(await page.locator('#payout-actions').count(), 0, 'nothing left to do');
    assert.equal((await gw.services.payouts.get('test', neverSent))?.status, 'cancelled');
    assert.deepEqual(problems, []);
  });
});
