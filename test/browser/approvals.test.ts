// The approval queue in Debian's chromium (issue 10 §4): a finance operator opens Approvals from
// the navigation, sees the held payout with its rule and maker, approves it from the list with a
// reason, and the payout is released and settles at the simulator; the Payout rules page opens
// for an owner. No Content-Security-Policy violation on any page after sign-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { browserUnavailable, launchChromium, screenshotDir, signedInPage } from '../helpers/browser.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { THRESHOLDS } from '../helpers/payout-controls.ts';
import { saveNgnBeneficiary, settlePayout } from '../helpers/payouts.ts';

const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('the approval queue in chromium', { skip }, () => {
  const clock = manualClock(Date.now());
  let gw: TestGateway;
  let browser: Browser;
  let owner: TestOperator;
  let approver: TestOperator;
  const violations: string[] = [];

  before(async () => {
    gw = await startTestGateway(sqlite!, {
      clock,
      payoutControls: THRESHOLDS,
      env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' },
    });
    browser = await launchChromium();
    owner = await enrolOperator(gw);
    approver = await enrolOperator(gw, { role: 'finance', email: 'checker@merchant.example' });
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** Signed in (the shared helper), every later console message about the CSP collected. */
  async function signedIn(op: TestOperator): Promise<Page> {
    const page = await signedInPage(browser, gw.url, op, clock);
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text());
    });
    return page;
  }

  test('approve from the list: released, then paid at the simulator', async () => {
    const beneficiary = (await saveNgnBeneficiary(gw)).id;
    const created = await gw.api('POST', '/v1/payouts', {
      amount: 25_000,
      currency: 'NGN',
      beneficiary,
      reference: `browser-${randomUUID()}`,
    });
    assert.equal(created.body.status, 'on_hold');
    const page = await signedIn(approver);
    assert.match((await page.textContent('#payouts-waiting')) ?? '', /1 payout\(s\) wait for approval/);
    await page.click('nav a[href="/dashboard/approvals"]');
    await page.waitForURL('**/dashboard/approvals');
    const row = page.locator(`#held-${created.body.id}`);
    assert.equal(await row.locator('[data-rule="amount"]').count(), 1);
    assert.match((await row.locator('.maker').textContent()) ?? '', /API key test/);
    await page.screenshot({ path: join(screenshotDir(), 'approvals.png'), fullPage: true });
    await row.locator('form[action$="/approve"] input[name=reason]').fill('Invoice 42 checked');
    await row.locator('button[data-action=approve]').click();
    await page.waitForURL(/\/dashboard\/approvals\?done=released$/);
    assert.match((await page.textContent('#notice')) ?? '', /released/);
    assert.ok(await page.isVisible('#no-approvals'));
    assert.equal(await settlePayout(gw, created.body.id), 'succeeded');

    const ownerPage = await signedIn(owner);
    await ownerPage.click('nav a[href="/dashboard/payout-rules"]');
    await ownerPage.waitForURL('**/dashboard/payout-rules');
    assert.equal(await ownerPage.inputValue('input[name=cur_NGN_approvalAbove]'), '100.00');
    await ownerPage.screenshot({ path: join(screenshotDir(), 'payout-rules.png'), fullPage: true });
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any page');
  });
});
