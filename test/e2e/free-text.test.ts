// Issue 16 §4, free text: every free-text field at the edge refuses control, invisible format and
// separator characters with a 400 naming the field and the code point (src/text/free-text.ts);
// ZWNJ and ZWJ pass; and text already stored with such characters is shown as a visible token on
// the dashboard, never raw. On a real gateway, both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';
import type { OperatorDb } from '../../src/operators/schema.ts';

const payment = (overrides: Record<string, unknown> = {}) => ({
  amount: 5000,
  currency: 'NGN',
  reference: `ft-${Math.random().toString(36).slice(2)}`,
  customer: { email: 'ft@example.com' },
  redirect_url: 'https://merchant.example/r',
  ...overrides,
});

for (const dialect of await testDialects()) {
  describe(`free text at the edge on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let operator: TestOperator;
    before(async () => {
      gw = await startTestGateway(dialect);
      operator = await enrolOperator(gw);
    });
    after(async () => gw?.close());

    const refused = async (path: string, body: unknown, param: string, codePoint: string) => {
      const answer = await gw.api('POST', path, body);
      assert.equal(answer.status, 400, `${path} ${param}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'invalid_characters');
      assert.equal(answer.body.error.param, param);
      assert.match(answer.body.error.message, new RegExp(`^${param.replace('.', '\\.')} contains ${codePoint} \\(`));
      assert.match(answer.body.error.request_id, /^req_/);
    };

    test('every free-text field of the API refuses them, naming the field and the code point', async () => {
      await refused('/v1/payments', payment({ description: 'Invoice \u202E4321' }), 'description', 'U\\+202E');
      await refused('/v1/payments', payment({ metadata: { note: 'a\u2028b' } }), 'metadata.note', 'U\\+2028');
      await refused(
        '/v1/payments',
        payment({ customer: { email: 'ft@example.com', name: 'Ada\u200BLovelace' } }),
        'customer.name',
        'U\\+200B',
      );
      await refused('/v1/payments', payment({ description: '\uFEFFhidden' }), 'description', 'U\\+FEFF');
      await refused('/v1/payments', payment({ description: 'soft\u00ADhyphen' }), 'description', 'U\\+00AD');
      await refused('/v1/payments', payment({ description: 'isolate \u2066x\u2069' }), 'description', 'U\\+2066');
      await refused('/v1/payments', payment({ description: 'bell \u0007' }), 'description', 'U\\+0007');
      await refused('/v1/payments', payment({ description: 'c1 \u0085' }), 'description', 'U\\+0085');
      await refused(
        '/v1/payments',
        payment({ redirect_url: 'https://merchant.example/\u202Er' }),
        'redirect_url',
        'U\\+202E',
      );
      await refused(
        '/v1/payouts',
        {
          amount: 1000,
          currency: 'NGN',
          beneficiary: 'ben_0000000000000000000000',
          reference: 'ft-payout',
          narration: 'rent\u061C',
        },
        'narration',
        'U\\+061C',
      );
      const beneficiary = {
        type: 'bank_account',
        currency: 'NGN',
        country: 'NG',
        bank_code: '044',
        account_number: '0690000031',
      };
      await refused('/v1/beneficiaries', { ...beneficiary, name: 'Bob\u200FSmith' }, 'name', 'U\\+200F');
      await refused('/v1/beneficiaries', { ...beneficiary, metadata: { v: 'x\u2064' } }, 'metadata.v', 'U\\+2064');
      await refused(
        '/v1/customers/erase',
        { email: 'ft@example.com', reason: 'gdpr \u202Drequest' },
        'reason',
        'U\\+202D',
      );
      await refused(
        '/v1/webhook_endpoints',
        { url: 'https://merchant.example/\u202Ehooks', events: ['*'] },
        'url',
        'U\\+202E',
      );
    });

    test('ZWNJ and ZWJ pass (Persian names, emoji sequences), and so does a subdivision flag', async () => {
      const created = await gw.api(
        'POST',
        '/v1/payments',
        payment({
          customer: { email: 'ft@example.com', name: 'فاطمه\u200Cزهرا' },
          description: 'Team 👩\u200D💻 🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}',
          metadata: { note: 'می\u200Cخواهم' },
        }),
      );
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.metadata.note, 'می\u200Cخواهم');
      // A tag character anywhere but right after the black flag is still refused.
      await refused('/v1/payments', payment({ description: 'x\u{E0041}' }), 'description', 'U\\+E0041');
    });

    test('dashboard forms refuse them with a page naming the field and the code point', async () => {
      const page = await operator.client.get(`/dashboard/payments?q=${encodeURIComponent('ref\u202E')}`);
      assert.equal(page.status, 400);
      assert.match(page.html, /q contains U\+202E \(a bidirectional control\)/);
      assert.ok(!page.html.includes('\u202E'), 'the refused character is not echoed');
    });

    test('text already stored with such characters is shown as a visible token, never raw', async () => {
      const created = await gw.api('POST', '/v1/payments', payment({ description: 'plain' }));
      assert.equal(created.status, 201);
      // Written directly, as rows from before the rule (or from another tool) would be.
      const db = gw.services.database.db;
      await db
        .updateTable('payments')
        .set({ description: 'Refund for \u202Etxt.exe a\u200Bb\u2028c' })
        .where('id', '=', created.body.id)
        .execute();
      await (db as unknown as OperatorDb)
        .updateTable('operators')
        .set({ name: 'Eve\uFEFF\u2067Admin' })
        .where('id', '=', operator.id)
        .execute();
      const page = await operator.client.get(`/dashboard/payments/${created.body.id}`);
      assert.equal(page.status, 200);
      assert.match(page.html, /Refund for ⟨U\+202E⟩txt\.exe a⟨U\+200B⟩b⟨U\+2028⟩c/);
      const operators = await operator.client.get('/dashboard/operators');
      assert.equal(operators.status, 200);
      assert.match(operators.html, /Eve⟨U\+FEFF⟩⟨U\+2067⟩Admin/);
      for (const html of [page.html, operators.html])
        for (const raw of ['\u202E', '\u200B', '\u2028', '\uFEFF', '\u2067'])
          assert.ok(!html.includes(raw), `raw U+${raw.codePointAt(0)!.toString(16)}`);
    });
  });
}
