// A payout file in Debian's chromium (issue 10 §5): an operator uploads a CSV through the page's
// file input, sees every row checked, submits it; each payout waits in the Approvals queue (rule
// `batch`); the maker's own approve buttons (the queue's and the file's) are refused; a second
// operator approves them in the queue; the payouts settle at the Flutterwave simulator, once each. Screenshots of the upload, preview and submitted pages are saved.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { manualClock } from '../../src/clock.ts';
import { HEADER } from '../../src/payout-batches/parse-file.ts';
import { browserUnavailable, launchChromium, screenshotDir, signedInPage } from '../helpers/browser.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { saveNgnBeneficiary } from '../helpers/payouts.ts';

const [sqlite] = await testDialects();
const skip = browserUnavailable() ?? sqlite?.skip;

describe('a payout file in chromium', { skip }, () => {
  const clock = manualClock(Date.now());
  let gw: TestGateway;
  let browser: Browser;
  let maker: TestOperator;
  let approver: TestOperator;
  let beneficiary: string;

  before(async () => {
    gw = await startTestGateway(sqlite!, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
    browser = await launchChromium();
    await enrolOperator(gw); // the first operator is an owner
    maker = await enrolOperator(gw, { role: 'finance', email: 'maker@merchant.example' });
    approver = await enrolOperator(gw, { role: 'finance', email: 'checker@merchant.example' });
    beneficiary = (await saveNgnBeneficiary(gw)).id;
  });
  after(async () => {
    await browser?.close();
    await gw?.close();
  });

  const signIn = (op: TestOperator) => signedInPage(browser, gw.url, op, clock);

  test('upload, preview, submit; the maker cannot approve; a second operator approves; the payouts settle at the simulator', async () => {
    const shots = screenshotDir();
    const references = [`june-${randomUUID()}`, `june-${randomUUID()}`];
    const csv = `${HEADER}\r\n1500.00,NGN,${beneficiary},${references[0]},"Supplies, June"\r\n250.75,NGN,${beneficiary},${references[1]},\r\n`;

    const makerPage = await signIn(maker);
    await makerPage.click('nav a[href="/dashboard/payout-batches"]');
    await makerPage.waitForURL('**/dashboard/payout-batches');
    assert.ok(await makerPage.isVisible('#template'), 'the template is offered');
    await makerPage.setInputFiles('#upload input[name=file]', {
      name: 'june-suppliers.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    await makerPage.screenshot({ path: join(shots, 'payout-file-upload.png') });
    await makerPage.click('#upload button[type=submit]');
    await makerPage.waitForURL(/\/dashboard\/payout-batches\/pob_\w{22}$/);
    const batchUrl = makerPage.url();
    const batchId = batchUrl.split('/').pop()!;
    assert.equal(await makerPage.textContent('#batch-status'), 'ready');
    assert.equal(await makerPage.locator('#rows tr.row-ok').count(), 2, 'every row shown, each ok');
    assert.match((await makerPage.textContent('#totals')) ?? '', /NGN 1750\.75 in 2 payouts/);
    await makerPage.screenshot({ path: join(shots, 'payout-file-preview.png'), fullPage: true });

    await makerPage.click('#submit-batch button[type=submit]');
    await makerPage.waitForURL(batchUrl);
    assert.equal(await makerPage.textContent('#batch-status'), 'submitted');
    assert.match((await makerPage.textContent('#payout-statuses')) ?? '', /2 on_hold/);
    const rows = await gw.services.payoutBatches.rowsOf(batchId);
    assert.deepEqual(
      rows.map((r) => r.payout_status),
      ['on_hold', 'on_hold'],
    );

    // The approval queue (the controls' Approvals page) lists each payout of the file, held by
    // the rule `batch`. The maker holds approve_payouts too (finance), sees the buttons, and is refused.
    await makerPage.click('nav a[href="/dashboard/approvals"]');
    await makerPage.waitForURL('**/dashboard/approvals');
    for (const row of rows) {
      const held = makerPage.locator(`#held-${row.payout_id}`);
      assert.ok(await held.isVisible(), `${row.payout_id} waits in the queue`);
      assert.equal(await held.locator('li[data-rule="batch"]').count(), 1, 'held by the rule batch');
      assert.match((await held.locator('.maker').textContent()) ?? '', /maker@merchant\.example/);
    }
    const first = makerPage.locator(`#held-${rows[0]!.payout_id} form[action$="/approve"]`);
    await first.locator('input[name=reason]').fill('I made it and approve it myself');
    await first.locator('button[data-action=approve]').click();
    await makerPage.waitForLoadState();
    assert.match((await makerPage.textContent('main')) ?? '', /You made this payout .*: someone else must decide it/);
    // And the file's own approve button refuses the maker the same way.
    await makerPage.goto(batchUrl);
    await makerPage.fill('#decide-batch input[name=reason]', 'I made it and approve it myself');
    await makerPage.click('#approve-batch');
    await makerPage.waitForLoadState();
    assert.match((await makerPage.textContent('main')) ?? '', /You made this payout .*: someone else must decide it/);
    assert.deepEqual(
      (await gw.services.payoutBatches.rowsOf(batchId)).map((r) => r.payout_status),
      ['on_hold', 'on_hold'],
      'still held',
    );

    const approverPage = await signIn(approver);
    await approverPage.click('nav a[href="/dashboard/approvals"]');
    await approverPage.waitForURL('**/dashboard/approvals');
    await approverPage.screenshot({ path: join(shots, 'payout-file-approvals.png'), fullPage: true });
    for (const row of rows) {
      const form = approverPage.locator(`#held-${row.payout_id} form[action$="/approve"]`);
      await form.locator('input[name=reason]').fill('Checked against the June invoices');
      await form.locator('button[data-action=approve]').click();
      await approverPage.waitForURL(/\/dashboard\/approvals\?done=released$/);
    }
    assert.equal(await approverPage.locator(`#held-${rows[0]!.payout_id}`).count(), 0, 'nothing of the file waits');

    for (let i = 0; i < 200; i += 1) {
      await gw.services.worker.drain();
      const statuses = (await gw.services.payoutBatches.rowsOf(batchId)).map((r) => r.payout_status);
      if (statuses.every((s) => s === 'succeeded')) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await approverPage.goto(batchUrl);
    assert.match((await approverPage.textContent('#payout-statuses')) ?? '', /2 succeeded/);
    for (const row of await gw.services.payoutBatches.rowsOf(batchId)) {
      const attempt = await gw.services.database.db
        .selectFrom('payout_attempts')
        .selectAll()
        .where('payout_id', '=', row.payout_id!)
        .executeTakeFirstOrThrow();
      const ledger = (await gw.sim('GET', `/_sim/ledger?reference=${attempt.reference}`)) as Array<{
        amountMinor: number;
        status: string;
      }>;
      assert.deepEqual(
        ledger.map((l) => [l.amountMinor, l.status]),
        [[row.amount_minor, 'SUCCESSFUL']],
        'paid once, the exact amount',
      );
    }
    await approverPage.screenshot({ path: join(shots, 'payout-file-settled.png'), fullPage: true });
  });
});
