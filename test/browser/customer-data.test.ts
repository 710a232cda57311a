// The customer data page in Debian's chromium (DAT-3): an owner finds a customer by email, enters
// a reason and downloads the export (a JSON file with the customer's payment), then erases them
// through the confirmation step; the payment then reads [erased]. Screenshots of the found
// customer and the confirmation step are saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { ERASED } from '../../src/privacy/seal.ts';
import { browserUnavailable, launchChromium, screenshotDir, signedInPage } from '../helpers/browser.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('customer export and erasure in chromium', { skip }, () => {
  const clock = manualClock(Date.now());
  let gw: TestGateway;
  let browser: Browser;
  let owner: TestOperator;
  let payment = '';
  const email = `grace.${Date.now()}@customer.example`;

  before(async () => {
    gw = await startTestGateway(sqlite!, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
    browser = await launchChromium();
    owner = await enrolOperator(gw);
    const created = await gw.api('POST', '/v1/payments', {
      amount: 990_000,
      currency: 'NGN',
      reference: `grace-${Date.now()}`,
      customer: { email, name: 'Grace Hopper' },
      redirect_url: 'https://merchant.example/thanks',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    payment = created.body.id;
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('find, download the export, erase after confirming', async () => {
    const shots = screenshotDir();
    const page = await signedInPage(browser, gw.url, owner, clock);
    await page.click('nav a[href="/dashboard/customers"]');
    await page.waitForURL('**/dashboard/customers');
    await page.fill('#find-customer input[name=email]', email);
    await page.click('#find-customer button[type=submit]');
    await page.waitForURL('**/dashboard/customers/find');
    const row = page.locator('#customers tbody tr');
    assert.equal(await row.count(), 1);
    const customer = ((await row.getAttribute('id')) ?? '').replace('customer-', '');
    assert.match(customer, /^cus_[0-9A-Za-z]{22}$/);
    await page.screenshot({ path: join(shots, 'customer-data-found.png'), fullPage: true });

    await page.fill(`#export-${customer} input[name=reason]`, 'subject access request');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click(`#export-${customer} button[type=submit]`),
    ]);
    assert.equal(download.suggestedFilename(), `${customer}-export.json`);
    const document = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    assert.equal(document.payments[0].id, payment);
    assert.equal(document.payments[0].customer.email, email);

    await page.fill(`#erase-${customer} input[name=reason]`, 'right to erasure');
    await page.click(`#erase-${customer} button[type=submit]`);
    await page.waitForSelector('#confirm-erase');
    await page.screenshot({ path: join(shots, 'customer-data-confirm-erase.png'), fullPage: true });
    await page.fill('#confirm-erase input[name=confirm]', customer);
    await page.click('#confirm-erase button[type=submit]');
    await page.waitForSelector('#erased');
    assert.match((await page.textContent('#erased')) ?? '', new RegExp(`Erased ${customer}`));
    assert.equal((await gw.api('GET', `/v1/payments/${payment}`)).body.customer.email, ERASED);
  });
});
