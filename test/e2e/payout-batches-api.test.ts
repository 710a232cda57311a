// POST /v1/payout_batches and GET /v1/payout_batches/:id on both databases (issue 10 §3): a valid
// file makes every payout in one transaction, each held for approval by the rule `batch` whatever
// its amount; the same file again is the same batch; bad rows make nothing and are listed with
// their lines; hostile files are refused with their reason; a failure part way through leaves
// nothing behind; a second operator's approval through the dashboard sends them, the maker's is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createPayoutBatchService } from '../../src/payout-batches/batch-service.ts';
import { HEADER } from '../../src/payout-batches/parse-file.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { saveNgnBeneficiary } from '../helpers/payouts.ts';

const dialects = await testDialects();

for (const dialect of dialects) {
  describe(`payout batches API on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let ben: string;
    let owner: TestOperator;
    const db = () => gw.services.database.db;
    const count = async (table: 'payouts' | 'payout_batches') =>
      Number(
        (
          await db()
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const file = (rows: readonly string[]) => `${HEADER}\r\n${rows.join('\r\n')}\r\n`;
    const row = (amount: string, reference = `api-${randomUUID()}`, narration = '') =>
      `${amount},NGN,${ben},${reference},${narration}`;

    before(async () => {
      gw = await startTestGateway(dialect);
      owner = await enrolOperator(gw);
      ben = (await saveNgnBeneficiary(gw)).id;
    });
    after(async () => {
      await gw?.close();
    });

    test('a valid file: 201, every payout created and held (rule batch) whatever its amount; the same file again is 200 with the same batch; GET reads it', async () => {
      const csv = file([row('1.00'), row('2500.50', undefined, 'Invoice 7')]);
      const before = await count('payouts');
      const created = await gw.api('POST', '/v1/payout_batches', { csv, filename: 'june.csv' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.object, 'payout_batch');
      assert.equal(created.body.status, 'submitted');
      assert.equal(created.body.filename, 'june.csv');
      assert.deepEqual(created.body.totals, [{ currency: 'NGN', amount: 250_150, count: 2 }]);
      assert.deepEqual(
        created.body.rows.map((r: { line: number; amount: number; narration: string | null }) => [
          r.line,
          r.amount,
          r.narration,
        ]),
        [
          [2, 100, null],
          [3, 250_050, 'Invoice 7'],
        ],
      );
      assert.equal(await count('payouts'), before + 2);
      for (const r of created.body.rows) {
        const payout = await gw.api('GET', `/v1/payouts/${r.payout}`);
        assert.equal(payout.body.status, 'on_hold', 'even a 1.00 payout waits: a file always needs approval');
        assert.ok(
          payout.body.hold.rules.some((h: { rule: string }) => h.rule === 'batch'),
          JSON.stringify(payout.body.hold),
        );
        assert.ok(payout.body.hold.approvals_required >= 1);
      }
      await gw.services.worker.drain();
      const submits = await db().selectFrom('jobs').select('id').where('kind', '=', 'submit_payout').execute();
      const attempts = await db()
        .selectFrom('payout_attempts')
        .select('sends')
        .where(
          'payout_id',
          'in',
          created.body.rows.map((r: { payout: string }) => r.payout),
        )
        .execute();
      assert.ok(
        attempts.every((a) => a.sends === 0),
        'nothing is sent before approval',
      );
      void submits;

      const again = await gw.api('POST', '/v1/payout_batches', { csv });
      assert.equal(again.status, 200);
      assert.equal(again.body.id, created.body.id);
      assert.equal(await count('payouts'), before + 2, 'nothing new');
      const read = await gw.api('GET', `/v1/payout_batches/${created.body.id}`);
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, again.body);
      assert.equal((await gw.api('GET', '/v1/payout_batches/pob_0000000000000000000000')).status, 404);
    });

    test('bad rows: 422 payout_file_rows_invalid naming the batch, nothing created; GET lists each row with its line and code', async () => {
      const before = await count('payouts');
      const dup = `dup-${randomUUID()}`;
      const answer = await gw.api('POST', '/v1/payout_batches', {
        csv: file([row('1.5.0'), row('10', dup), row('10', dup), row('10')]),
      });
      assert.equal(answer.status, 422);
      assert.equal(answer.body.error.code, 'payout_file_rows_invalid');
      assert.equal(answer.body.error.param, 'csv');
      assert.match(
        answer.body.error.message,
        /3 of 4 rows are not valid \(line 2: amount_invalid; line 3: reference_duplicate_in_file; line 4/,
      );
      const id = /GET \/v1\/payout_batches\/(pob_\w{22})/.exec(answer.body.error.message)?.[1];
      assert.ok(id);
      const read = await gw.api('GET', `/v1/payout_batches/${id}`);
      assert.equal(read.body.status, 'invalid');
      assert.deepEqual(
        read.body.rows.map((r: { line: number; errors: Array<{ code: string }> }) => [
          r.line,
          r.errors.map((e) => e.code),
        ]),
        [
          [2, ['amount_invalid']],
          [3, ['reference_duplicate_in_file']],
          [4, ['reference_duplicate_in_file']],
          [5, []],
        ],
      );
      assert.ok(read.body.rows.every((r: { payout: string | null }) => r.payout === null));
      assert.equal(await count('payouts'), before);
    });

    test('hostile files: NUL bytes, a wrong header, too many rows, and the request schema: each refused with its reason, nothing stored', async () => {
      const batches = await count('payout_batches');
      const binary = await gw.api('POST', '/v1/payout_batches', { csv: `${HEADER}\n1,NGN,${ben},r\u0000x,\n` });
      assert.equal(binary.status, 422);
      assert.equal(binary.body.error.code, 'payout_file_invalid');
      assert.match(binary.body.error.message, /^file_not_text: /);
      const header = await gw.api('POST', '/v1/payout_batches', { csv: 'amount,currency\n1,NGN\n' });
      assert.match(header.body.error.message, /^header_invalid: .*\(line 1\)$/);
      const many = await gw.api('POST', '/v1/payout_batches', {
        csv: file(Array.from({ length: gw.services.config.payoutFileMaxRows + 1 }, () => row('1'))),
      });
      assert.match(many.body.error.message, /^too_many_rows: /);
      const unknownField = await gw.api('POST', '/v1/payout_batches', { csv: file([row('1')]), rows: [] });
      assert.equal(unknownField.status, 422);
      const empty = await gw.api('POST', '/v1/payout_batches', { csv: '' });
      assert.equal(empty.status, 422);
      const noKey = await fetch(`${gw.url}/v1/payout_batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ csv: file([row('1')]) }),
      });
      assert.equal(noKey.status, 400);
      assert.equal(((await noKey.json()) as { error: { code: string } }).error.code, 'idempotency_key_missing');
      assert.equal(await count('payout_batches'), batches);
    });

    test('all or nothing: a failure while writing the third payout leaves no payout and the batch ready', async () => {
      const real = gw.services.payouts;
      let written = 0;
      const failing = createPayoutBatchService({
        db: db(),
        dialect: gw.services.database.dialect,
        clock: gw.services.clock,
        queue: gw.services.queue,
        holds: gw.services.payoutHolds,
        limits: gw.services.payoutBatches.limits,
        payouts: {
          ...real,
          insertPrepared: async (...args: Parameters<typeof real.insertPrepared>) => {
            written += 1;
            if (written === 3) throw new Error('the disk filled up');
            return real.insertPrepared(...args);
          },
        },
      });
      const ctx = { mode: 'test' as const, apiKeyId: gw.keyId, requestId: 'req_test', ip: '127.0.0.1' };
      const uploaded = await failing.upload(ctx, {
        bytes: Buffer.from(file([row('1'), row('2'), row('3'), row('4')])),
      });
      assert.equal(uploaded.kind, 'batch');
      if (uploaded.kind !== 'batch') return;
      const before = await count('payouts');
      await assert.rejects(failing.submit(ctx, uploaded.batch), /the disk filled up/);
      assert.equal(written, 3);
      assert.equal(await count('payouts'), before, 'the two payouts written before the failure were rolled back');
      const batch = await gw.services.payoutBatches.get('test', uploaded.batch.id);
      assert.equal(batch?.status, 'ready');
      const rows = await gw.services.payoutBatches.rowsOf(uploaded.batch.id);
      assert.ok(rows.every((r) => r.payout_id === null));
      // And then it goes through whole.
      const retried = await gw.services.payoutBatches.submit(ctx, batch!);
      assert.equal(retried.kind, 'submitted');
      assert.equal(await count('payouts'), before + 4);
    });

    test('races: the same file posted twice at once is one batch with one set of payouts; one batch submitted twice at once makes its payouts once', async () => {
      const before = await count('payouts');
      const csv = file([row('3.00'), row('4.00'), row('5.00')]);
      const [a, b] = await Promise.all([
        gw.api('POST', '/v1/payout_batches', { csv }),
        gw.api('POST', '/v1/payout_batches', { csv }),
      ]);
      assert.deepEqual([a.status, b.status].sort(), [200, 201], `${JSON.stringify(a.body)} ${JSON.stringify(b.body)}`);
      assert.equal(a.body.id, b.body.id);
      assert.equal(await count('payouts'), before + 3);

      const ctx = { mode: 'test' as const, apiKeyId: gw.keyId, requestId: 'req_race', ip: '127.0.0.1' };
      const uploaded = await gw.services.payoutBatches.upload(ctx, { bytes: Buffer.from(file([row('6'), row('7')])) });
      assert.equal(uploaded.kind, 'batch');
      if (uploaded.kind !== 'batch') return;
      const outcomes = await Promise.all([
        gw.services.payoutBatches.submit(ctx, uploaded.batch),
        gw.services.payoutBatches.submit(ctx, uploaded.batch),
      ]);
      assert.deepEqual(outcomes.map((o) => o.kind).sort(), ['already_submitted', 'submitted']);
      assert.equal(await count('payouts'), before + 5);
    });

    test('a file uploaded in the dashboard waits for its uploader: the API posting the same file is 409 and makes nothing; a rejected file ends unsent', async () => {
      const csv = file([row('8.00'), row('9.00')]);
      const uploaded = await owner.client.upload('/dashboard/payout-batches', { filename: 'x.csv', content: csv });
      assert.equal(uploaded.status, 303);
      const before = await count('payouts');
      const posted = await gw.api('POST', '/v1/payout_batches', { csv });
      assert.equal(posted.status, 409);
      assert.equal(posted.body.error.code, 'payout_batch_conflict');
      assert.equal(await count('payouts'), before);

      const id = /pob_\w{22}/.exec(uploaded.location ?? '')![0];
      assert.equal((await owner.client.post(`/dashboard/payout-batches/${id}/submit`)).status, 303);
      const checker = await enrolOperator(gw, { role: 'admin' });
      const rejected = await checker.client.post(`/dashboard/payout-batches/${id}/decide`, {
        decision: 'reject',
        reason: 'Not our suppliers',
      });
      assert.equal(rejected.status, 303, rejected.html.slice(0, 300));
      const rows = await gw.services.payoutBatches.rowsOf(id);
      assert.deepEqual(
        rows.map((r) => r.payout_status),
        ['rejected', 'rejected'],
      );
      const attempts = await db()
        .selectFrom('payout_attempts')
        .select(['sends', 'state'])
        .where(
          'payout_id',
          'in',
          rows.map((r) => r.payout_id!),
        )
        .execute();
      assert.deepEqual(
        attempts.map((x) => [x.sends, x.state]),
        [
          [0, 'cancelled'],
          [0, 'cancelled'],
        ],
      );
    });

    test('approval: the key\u2019s creator is its maker and is refused; another operator approves the file in the dashboard; the payouts settle once each at the simulator', async () => {
      const { key } = await gw.services.keys.create(
        { mode: 'test', name: 'made by the owner', scopes: ['payouts:write', 'payouts:read'] },
        { actorType: 'operator', actorId: owner.id },
      );
      const posted = await fetch(`${gw.url}/v1/payout_batches`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({ csv: file([row('12.34'), row('56.78')]) }),
      });
      const batch = (await posted.json()) as { id: string; rows: Array<{ payout: string; reference: string }> };
      assert.equal(posted.status, 201, JSON.stringify(batch));
      const byTheKeyMaker = await owner.client.post(`/dashboard/payout-batches/${batch.id}/decide`, {
        decision: 'approve',
        reason: 'my own key made these',
      });
      assert.equal(byTheKeyMaker.status, 403);
      assert.match(
        byTheKeyMaker.html,
        /You made this payout \(or the API key that made it\): someone else must decide it/,
      );
      for (const r of batch.rows) assert.equal((await gw.api('GET', `/v1/payouts/${r.payout}`)).body.status, 'on_hold');

      const approver = await enrolOperator(gw, { role: 'finance' });
      const page = await approver.client.get(`/dashboard/payout-batches/${batch.id}`);
      assert.match(page.html, /id="decide-batch"/);
      const approved = await approver.client.post(`/dashboard/payout-batches/${batch.id}/decide`, {
        decision: 'approve',
        reason: 'June suppliers, checked against the invoices',
      });
      assert.equal(approved.status, 303, approved.html.slice(0, 400));
      for (const r of batch.rows) assert.equal((await gw.api('GET', `/v1/payouts/${r.payout}`)).body.status, 'pending');
      await waitFor(async () => {
        const statuses = await Promise.all(
          batch.rows.map(async (r) => (await gw.api('GET', `/v1/payouts/${r.payout}`)).body.status),
        );
        return statuses.every((s) => s === 'succeeded');
      }, gw);
      for (const r of batch.rows) {
        const attempt = await db()
          .selectFrom('payout_attempts')
          .selectAll()
          .where('payout_id', '=', r.payout)
          .executeTakeFirstOrThrow();
        const ledger = (await gw.sim('GET', `/_sim/ledger?reference=${attempt.reference}`)) as unknown[];
        assert.equal(ledger.length, 1, 'exactly one transfer each');
      }
      const decisions = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'payout.approve')
        .where('actor_id', '=', approver.id)
        .execute();
      assert.equal(decisions.length, 2, 'one audited approval per payout, with its reason');
    });
  });
}

async function waitFor(done: () => Promise<boolean>, gw: TestGateway): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    if (await done()) return;
    await gw.services.worker.drain();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail('condition not reached');
}
