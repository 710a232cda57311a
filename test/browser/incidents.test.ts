// MON-3, the incident page in Debian's chromium: an owner opens an incident from the form, records
// a finding and a measure, downloads the export, rotates (the new secrets shown once, then signed
// out), signs in again and closes it; no Content-Security-Policy violation on any page after sign-in.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { browserUnavailable, launchChromium, screenshotDir, signedInPage } from '../helpers/browser.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('the incident page in chromium', { skip }, () => {
  const clock = manualClock(Date.now());
  let gw: TestGateway;
  let browser: Browser;
  let owner: TestOperator;
  /** Every console message about the Content-Security-Policy, from every page. */
  const violations: string[] = [];

  before(async () => {
    gw = await startTestGateway(sqlite!, { clock });
    owner = await enrolOperator(gw, { role: 'owner' });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** Signed in through the pages (test/helpers/browser.ts), every CSP message from then on collected. */
  async function signedIn(): Promise<Page> {
    const page = await signedInPage(browser, gw.url, owner, clock);
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) violations.push(message.text());
    });
    return page;
  }

  test('open, record, export, rotate, sign in again, close: all from the page', async () => {
    let page = await signedIn();
    await page.click('nav a[href="/dashboard/incidents"]');
    await page.waitForURL('**/dashboard/incidents');
    await page.fill('#open-incident input[name=title]', 'Webhook secret pasted in a support chat');
    await page.click('#open-incident button[type=submit]');
    await page.waitForURL(/\/dashboard\/incidents\/inc_[0-9A-Za-z]{22}$/);
    const incidentUrl = page.url();
    assert.equal(await page.textContent('#incident-status'), 'open');
    assert.equal(await page.locator('#timeline tr.step-opened').count(), 1);

    await page.selectOption('#incident-note select[name=kind]', 'finding');
    await page.fill('#incident-note input[name=text]', 'the secret was pasted while debugging a delivery');
    await page.click('#incident-note button[type=submit]');
    await page.waitForURL(incidentUrl);
    await page.selectOption('#incident-note select[name=kind]', 'measure');
    await page.fill('#incident-note input[name=text]', 'support tooling redacts whsec_ values');
    await page.click('#incident-note button[type=submit]');
    await page.waitForURL(incidentUrl);
    assert.equal(await page.locator('#timeline tr.step-finding').count(), 1);
    assert.equal(await page.locator('#timeline tr.step-measure').count(), 1);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#incident-export button[type=submit]'),
    ]);
    assert.match(download.suggestedFilename(), /^inc_[0-9A-Za-z]{22}-export\.json$/);
    const text = readFileSync((await download.path())!, 'utf8');
    const exported = JSON.parse(text) as { incident: string; audit_log: Array<{ action: string }> };
    assert.equal(exported.incident, incidentUrl.split('/').at(-1));
    assert.ok(exported.audit_log.some((r) => r.action === 'incident.opened'));
    await page.reload();
    assert.equal(await page.locator('#timeline tr.step-exported').count(), 1);
    const sha256 = createHash('sha256').update(text).digest('hex');
    const row = (await gw.services.incidentsFor({ actorType: 'system', actorId: null }).list())[0]!;
    const exportedRow = (await gw.services.incidentsFor({ actorType: 'system', actorId: null }).timeline(row.id)).find(
      (r) => r.kind === 'exported',
    );
    assert.equal(JSON.parse(exportedRow!.details_json).sha256, sha256, 'the downloaded bytes are what was hashed');

    await page.click('#incident-rotate button[type=submit]');
    await page.waitForSelector('#rotated-keys');
    assert.match((await page.textContent('#rotated-keys'))!, /sk_test_/);
    assert.ok(Number(await page.textContent('#sessions-ended')) >= 1);
    await page.screenshot({ path: join(screenshotDir(), 'incident-rotated.png'), fullPage: true });
    await page.goto(incidentUrl);
    assert.match(page.url(), /\/dashboard\/login/, 'signed out with every other session');

    page = await signedIn();
    await page.goto(incidentUrl);
    await page.click('#incident-close button[type=submit]');
    await page.waitForURL(incidentUrl);
    assert.equal(await page.textContent('#incident-status'), 'closed');
    await page.screenshot({ path: join(screenshotDir(), 'incident.png'), fullPage: true });
    assert.deepEqual(violations, [], 'no Content-Security-Policy violation on any page');
  });
});
