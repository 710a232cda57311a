// The API reference page in Debian's chromium: it renders every operation and event from the
// description, its stylesheet applies under the strict CSP, and the browser reports no CSP
// violation or script error. Saves a screenshot.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { browserUnavailable, launchChromium, screenshotDir } from '../helpers/browser.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();

describe('the API reference page in chromium', { skip: browserUnavailable() ?? sqlite?.skip }, () => {
  let gw: TestGateway;
  let browser: Browser;
  before(async () => {
    gw = await startTestGateway(sqlite!);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('renders every operation and event, styled, with no CSP violation', async () => {
    const doc = (await (await fetch(`${gw.url}/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
      webhooks: Record<string, unknown>;
    };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const page = await (await browser.newContext()).newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const response = await page.goto(`${gw.url}/docs/api`);
    assert.equal(response?.status(), 200);
    assert.equal(await page.locator('section.operation').count(), operations + Object.keys(doc.webhooks).length);
    assert.equal(await page.locator('h1').textContent(), 'Paywarden merchant API');
    assert.ok(await page.locator('#postPayments').isVisible());
    // The stylesheet from our origin applied (the page lays out as a grid only through it).
    assert.equal(await page.evaluate('getComputedStyle(document.body).display'), 'grid');
    await page.screenshot({ path: join(screenshotDir(), 'api-reference.png'), fullPage: false });
    await page.click('a[href="#getEventsId"]');
    assert.ok(await page.locator('#getEventsId').isVisible());
    assert.deepEqual(problems, []);
  });
});
