// The dashboard over HTTP on both databases: roles, re-authentication, CSRF and same-origin
// checks, per-address throttling, the forms that change things (keys, endpoints, operators,
// password) and the audit rows they leave. The browser-only behaviour is in test/browser/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../src/clock.ts';
import { createOperatorInvite } from '../../src/cli/operators.ts';
import { DashboardClient, enrolOperator, signIn, strongPassword, type TestOperator } from '../helpers/dashboard.ts';
import { testDialects } from '../helpers/databases.ts';
import { liveModeEnv, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { payAtCheckout, waitUntil } from '../helpers/checkout.ts';

const USER_AGENT = 'PaywardenTest/1.0 (audit check)';

for (const dialect of await testDialects()) {
  describe(`dashboard over HTTP on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let owner: TestOperator;
    before(async () => {
      gw = await startTestGateway(dialect, { clock, env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '10000' } });
      owner = await enrolOperator(gw, { role: 'owner' });
    });
    after(async () => gw?.close());

    const auditRows = (action: string) =>
      gw.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', action)
        .orderBy('created_at', 'desc')
        .execute();

    test('the CLI prints a one-time enrolment link that opens the invitation form, once', async () => {
      const printed = await createOperatorInvite(gw.services.operators, gw.url, {
        email: 'cli-dev@merchant.example',
        role: 'developer',
      });
      assert.ok(printed.ok, printed.text);
      const link = /(http\S+\/dashboard\/enrol\/\S+)/.exec(printed.text)?.[1];
      assert.ok(link !== undefined, printed.text);
      const client = new DashboardClient(gw.url);
      assert.equal((await client.get(new URL(link).pathname)).status, 200);
      const accepted = await client.postOpen(new URL(link).pathname, {
        name: 'Dev Person',
        password: strongPassword(),
      });
      assert.equal(accepted.status, 303);
      const again = await client.postOpen(new URL(link).pathname, { name: 'Dev Person', password: strongPassword() });
      assert.equal(again.status, 410, 'the link works once');
      assert.match(again.html, /not valid or has already been used/);
      assert.equal(
        (await createOperatorInvite(gw.services.operators, gw.url, { email: 'x@merchant.example', role: 'root' })).ok,
        false,
        'unknown roles are refused',
      );
      const lost = await gw.services.operators.inviteFromCli({ email: 'twice@merchant.example', role: 'viewer' });
      const replacement = await gw.services.operators.inviteFromCli({
        email: 'twice@merchant.example',
        role: 'finance',
      });
      assert.ok(lost.ok && replacement.ok);
      assert.equal(
        (await client.postOpen(`/dashboard/enrol/${lost.token}`, { name: 'Twice', password: strongPassword() })).status,
        410,
        'a replaced link no longer works',
      );
      assert.equal(
        (await client.postOpen(`/dashboard/enrol/${replacement.token}`, { name: 'Twice', password: strongPassword() }))
          .status,
        303,
      );
      assert.equal(
        (await gw.services.operators.list()).find((o) => o.email === 'twice@merchant.example')?.role,
        'finance',
      );
    });

    test('every page answers for an owner, with no-store and the strict policy', async () => {
      for (const path of [
        '/dashboard',
        '/dashboard/payments',
        '/dashboard/webhooks-in',
        '/dashboard/webhooks-out',
        '/dashboard/endpoints',
        '/dashboard/keys',
        '/dashboard/operators',
        '/dashboard/jobs',
        '/dashboard/audit',
        '/dashboard/settings',
      ]) {
        const page = await owner.client.get(path);
        assert.equal(page.status, 200, path);
        assert.equal(page.headers.get('cache-control'), 'no-store', path);
        assert.match(
          page.headers.get('content-security-policy') ?? '',
          /default-src 'none'.*frame-ancestors 'none'/,
          path,
        );
        assert.match(page.html, /action="\/dashboard\/logout"/, `logout on ${path}`);
      }
      const login = await new DashboardClient(gw.url).get('/dashboard/login');
      assert.equal(login.headers.get('cache-control'), 'no-store', 'signed-out pages too');
    });

    test('signed-out requests go to sign-in; the session cookie is __Host-, Secure, HttpOnly, SameSite=Strict', async () => {
      const anonymous = new DashboardClient(gw.url);
      const page = await anonymous.get('/dashboard/payments');
      assert.equal(page.status, 303);
      assert.equal(page.location, '/dashboard/login');
      const client = new DashboardClient(gw.url);
      clock.advance(30_000);
      const first = await client.postOpen('/dashboard/login', { email: owner.email, password: owner.password });
      assert.match(
        first.headers.getSetCookie().join('\n'),
        /^__Host-paywarden_signin=[^;]+; Max-Age=300; Path=\/; HttpOnly; Secure; SameSite=Strict$/m,
      );
      const { totpCodeAt } = await import('../../src/operators/totp.ts');
      const second = await client.postOpen('/dashboard/login/verify', {
        code: totpCodeAt(owner.totpSecret, clock.nowMs()),
      });
      assert.match(
        second.headers.getSetCookie().join('\n'),
        /^__Host-paywarden_session=ses_[0-9A-Za-z]{22}\.[^;]+; Path=\/; HttpOnly; Secure; SameSite=Strict$/m,
      );
      // That sign-in ended the shared owner's earlier session; carry on with the new one.
      owner = { ...owner, client };
      await client.get('/dashboard/settings');
    });

    test('state-changing forms need our origin and the session CSRF token; refusals change nothing', async () => {
      const before = (await gw.services.keys.list()).length;
      const good = owner.client.csrfToken;
      owner.client.origin = 'https://evil.example';
      assert.equal(
        (await owner.client.post('/dashboard/keys', { name: 'x', mode: 'test' })).status,
        403,
        'foreign origin',
      );
      owner.client.origin = gw.url;
      const noOrigin = await owner.client.request(
        'POST',
        '/dashboard/keys',
        { csrf_token: good, name: 'x', mode: 'test' },
        { origin: '' },
      );
      assert.equal(noOrigin.status, 403, 'no origin at all');
      const crossSite = await owner.client.request(
        'POST',
        '/dashboard/keys',
        { csrf_token: good, name: 'x', mode: 'test' },
        { 'sec-fetch-site': 'cross-site' },
      );
      assert.equal(crossSite.status, 403, 'Sec-Fetch-Site cross-site wins over a matching Origin');
      const wrong = await owner.client.request('POST', '/dashboard/keys', {
        csrf_token: 'A'.repeat(43),
        name: 'x',
        mode: 'test',
      });
      assert.equal(wrong.status, 403);
      assert.match(wrong.html, /did not come from your session/);
      const missing = await owner.client.request('POST', '/dashboard/keys', { name: 'x', mode: 'test' });
      assert.equal(missing.status, 400, 'a form without its token is not valid');
      assert.equal((await gw.services.keys.list()).length, before, 'nothing was created');
      const ok = await owner.client.request(
        'POST',
        '/dashboard/keys',
        { csrf_token: good, name: 'ok', mode: 'test', scopes: 'payments:read' },
        { origin: '', 'sec-fetch-site': 'same-origin' },
      );
      assert.equal(ok.status, 201, 'Sec-Fetch-Site same-origin alone is enough');
    });

    test('bad form input gets a clear page with a request id, never a stack trace', async () => {
      const bad = await owner.client.post('/dashboard/keys', { name: '<b>x</b>', mode: 'test' });
      assert.equal(bad.status, 400);
      assert.match(bad.html, /The form was not valid \(name\)/);
      assert.match(bad.html, /id="request-id">req_[0-9A-Za-z]{22}</);
      assert.doesNotMatch(bad.html, /at \w+ \(|node_modules|\.ts:\d+/);
      const unknown = await owner.client.post('/dashboard/keys', { name: 'x', mode: 'test', admin: 'true' });
      assert.equal(unknown.status, 400, 'unknown fields are refused');
      assert.equal(
        (await owner.client.post('/dashboard/keys', { name: 'x', mode: 'sandbox' })).status,
        400,
        'enums are enforced',
      );
      assert.equal(
        (await owner.client.post('/dashboard/keys', { name: 'x', mode: 'live' })).status,
        400,
        'live keys need live mode enabled',
      );
      assert.equal(
        (await owner.client.post('/dashboard/mode', { mode: 'live' })).status,
        400,
        'no live data to switch to',
      );
      assert.doesNotMatch(
        (await owner.client.get('/dashboard')).html,
        /switch-mode/,
        'no switch offered in test-only deployments',
      );
      assert.equal((await owner.client.get('/dashboard/payments/pay_nope')).status, 400);
      assert.equal((await owner.client.get('/dashboard/no-such-page')).status, 404);
      const huge = await owner.client.post('/dashboard/keys', { name: 'x'.repeat(20_000), mode: 'test' });
      assert.equal(huge.status, 413);
    });

    test('a key created in the dashboard is shown once, works on the API, and stops working when revoked', async () => {
      const none = await owner.client.post('/dashboard/keys', { name: 'backend', mode: 'test' });
      assert.equal(none.status, 400);
      assert.match(none.html, /Tick at least one scope/);
      assert.equal(
        (await owner.client.post('/dashboard/keys', { name: 'backend', mode: 'test', scopes: 'payments:refund' }))
          .status,
        400,
        'only known scopes',
      );
      const created = await owner.client.post('/dashboard/keys', {
        name: 'backend',
        mode: 'test',
        scopes: ['payments:read', 'banks:read'],
      });
      assert.equal(created.status, 201);
      assert.match(created.html, /scopes <code>payments:read banks:read<\/code>/);
      const key = /id="new-key">(sk_test_[0-9A-Za-z]+)</.exec(created.html)?.[1];
      assert.ok(key !== undefined);
      const use = await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(use.status, 200);
      const denied = await fetch(`${gw.url}/v1/events`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(denied.status, 403, 'a scope not ticked is not granted');
      const listed = await owner.client.get('/dashboard/keys');
      assert.ok(!listed.html.includes(key), 'the list shows a prefix only');
      assert.match(listed.html, /<td class="scopes">payments:read banks:read<\/td>/);
      const id = (await gw.services.keys.list()).find((k) => k.name === 'backend')!.id;
      assert.equal((await owner.client.post(`/dashboard/keys/${id}/revoke`)).status, 303);
      assert.equal((await fetch(`${gw.url}/v1/payments`, { headers: { authorization: `Bearer ${key}` } })).status, 401);
      const rows = await auditRows('api_key.revoke');
      assert.equal(rows[0]?.actor_type, 'operator');
      assert.equal(rows[0]?.actor_id, owner.id);
    });

    test('sensitive actions need the password within the last 5 minutes; the re-authentication is audited', async () => {
      clock.advance(5 * 60_000 + 1_000);
      const refused = await owner.client.post('/dashboard/keys', { name: 'late', mode: 'test' });
      assert.equal(refused.status, 403);
      assert.match(refused.html, /needs your password again/);
      assert.ok(!(await gw.services.keys.list()).some((k) => k.name === 'late'));
      const wrong = await owner.client.post('/dashboard/reauth', {
        password: 'Not-the-password-1!',
        return_to: '/dashboard/keys',
      });
      assert.equal(wrong.status, 401);
      const redirect = await owner.client.post('/dashboard/reauth', {
        password: owner.password,
        return_to: 'https://evil.example/',
      });
      assert.equal(redirect.location, '/dashboard', 'return_to outside the dashboard is ignored');
      assert.equal(
        (await owner.client.post('/dashboard/keys', { name: 'late', mode: 'test', scopes: 'payments:read' })).status,
        201,
      );
      assert.ok((await auditRows('operator.reauthenticated')).some((r) => r.actor_id === owner.id));
    });

    test('webhook endpoints: added with the secret shown once, rotated, deleted; events redelivered', async () => {
      const added = await owner.client.post('/dashboard/endpoints', {
        url: 'http://127.0.0.1:9/hook',
        events: ['payment.succeeded', 'payment.failed'],
      });
      assert.equal(added.status, 201, added.html);
      assert.match(added.html, /id="signing-secret">whsec_/);
      const [endpoint] = await gw.services.endpoints.list('test');
      assert.deepEqual(endpoint?.events, ['payment.succeeded', 'payment.failed']);
      const single = await owner.client.post('/dashboard/endpoints', { url: 'http://127.0.0.1:9/other', events: '*' });
      assert.equal(single.status, 201, 'one checkbox arrives as a string');
      const rotated = await owner.client.post(`/dashboard/endpoints/${endpoint!.id}/rotate`);
      assert.match(rotated.html, /previous secret keeps signing alongside it until/);
      assert.equal((await owner.client.post(`/dashboard/endpoints/${endpoint!.id}/delete`)).status, 303);
      assert.ok(!(await gw.services.endpoints.list('test')).some((e) => e.id === endpoint!.id));
      const badUrl = await owner.client.post('/dashboard/endpoints', { url: 'ftp://x.example/', events: '*' });
      assert.equal(badUrl.status, 400);
      for (const action of ['webhook_endpoint.create', 'webhook_endpoint.rotate_secret', 'webhook_endpoint.delete']) {
        const [row] = await auditRows(action);
        assert.equal(row?.actor_type, 'operator', action);
        assert.equal(row?.actor_id, owner.id, action);
      }
    });

    test('an event is redelivered from the webhooks-out page, audited to the operator', async () => {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 7_500,
        currency: 'NGN',
        reference: `redeliver-${Date.now()}`,
        customer: { email: 'c@customer.example' },
        redirect_url: 'https://merchant.example/r',
      });
      await payAtCheckout(created.body.checkout_url);
      await waitUntil(
        async () =>
          (
            await gw.services.database.db
              .selectFrom('provider_webhooks')
              .select('id')
              .where('provider_reference', '=', created.body.id)
              .execute()
          ).length === 1,
        'the webhook',
      );
      await gw.services.worker.drain();
      const event = await gw.services.database.db
        .selectFrom('events')
        .select('id')
        .where('object_id', '=', created.body.id)
        .executeTakeFirstOrThrow();
      const out = await owner.client.get('/dashboard/webhooks-out');
      assert.match(out.html, new RegExp(`action="/dashboard/events/${event.id}/redeliver"`));
      assert.equal(
        (await owner.client.post(`/dashboard/events/${event.id}/redeliver`)).location,
        '/dashboard/webhooks-out',
      );
      const [row] = await auditRows('event.redeliver');
      assert.equal(row?.object_id, event.id);
      assert.equal(row?.actor_id, owner.id);

      // LOG-3: opening the payment's details and the raw webhook is recorded.
      assert.equal((await owner.client.get(`/dashboard/payments/${created.body.id}`)).status, 200);
      const webhook = await gw.services.database.db
        .selectFrom('provider_webhooks')
        .select('id')
        .where('provider_reference', '=', created.body.id)
        .executeTakeFirstOrThrow();
      assert.equal((await owner.client.get(`/dashboard/webhooks-in/${webhook.id}`)).status, 200);
      const [viewed] = await auditRows('payment.viewed');
      assert.equal(viewed?.object_id, created.body.id);
      assert.equal(viewed?.actor_id, owner.id);
      assert.equal((await auditRows('provider_webhook.viewed'))[0]?.object_id, webhook.id);
    });

    test('dead jobs are listed with their error (escaped) and run again by a developer, audited; a viewer can do neither', async () => {
      const { db } = gw.services.database;
      // No handler knows this kind, so the worker marks it dead at once, with the kind in the error.
      const hostile = '<img src=x onerror=alert(1)>';
      await gw.services.queue.enqueue(db, { kind: hostile, payload: {} });
      await gw.services.worker.drain();
      const job = await db.selectFrom('jobs').selectAll().where('kind', '=', hostile).executeTakeFirstOrThrow();
      assert.equal(job.status, 'dead');

      const overview = await owner.client.get('/dashboard');
      assert.match(overview.html, /<a href="\/dashboard\/jobs">\d+ background job\(s\) are dead<\/a>/);
      const page = await owner.client.get('/dashboard/jobs');
      assert.equal(page.status, 200);
      assert.match(page.html, new RegExp(`action="/dashboard/jobs/${job.id}/run-again"`));
      assert.match(page.html, /no handler for job kind &lt;img src=x onerror=alert\(1\)&gt;/);
      assert.doesNotMatch(page.html, /<img src=x/, 'the error is text, never markup');

      const viewer = await enrolOperator(gw, { role: 'viewer' });
      assert.doesNotMatch(
        (await viewer.client.get('/dashboard/payments')).html,
        /href="\/dashboard\/jobs"/,
        'no link for a role that cannot open it',
      );
      assert.equal((await viewer.client.get('/dashboard/jobs')).status, 403);
      assert.equal((await viewer.client.post(`/dashboard/jobs/${job.id}/run-again`)).status, 403);
      assert.equal(
        (await db.selectFrom('jobs').select('status').where('id', '=', job.id).executeTakeFirstOrThrow()).status,
        'dead',
        'a refusal changes nothing',
      );
      const denied = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('actor_id', '=', viewer.id)
        .where('result', '=', 'denied')
        .execute();
      assert.deepEqual(
        denied.map((row) => [row.action, row.object_id]),
        [['dashboard.manage_jobs', '/dashboard/jobs/:id/run-again']],
        'the refused change is audited',
      );

      const developer = await enrolOperator(gw, { role: 'developer' });
      const ran = await developer.client.post(`/dashboard/jobs/${job.id}/run-again`);
      assert.equal(ran.status, 303);
      assert.equal(ran.location, '/dashboard/jobs');
      const revived = await db.selectFrom('jobs').selectAll().where('id', '=', job.id).executeTakeFirstOrThrow();
      assert.equal(revived.status, 'queued');
      assert.equal(Number(revived.attempts), 0);
      assert.ok(Number(revived.run_at) <= clock.nowMs(), 'due now');
      const [audit] = await auditRows('job.run_again');
      assert.equal(audit?.object_id, job.id);
      assert.equal(audit?.actor_id, developer.id);
      assert.equal(audit?.mode, null, 'jobs belong to the deployment, not to a mode');

      const again = await developer.client.post(`/dashboard/jobs/${job.id}/run-again`);
      assert.equal(again.status, 404, 'only a dead job can be run again');
      assert.match(again.html, /no dead job with this id/);
      assert.equal((await developer.client.post('/dashboard/jobs/job_not-an-id/run-again')).status, 400);
      // Processed again, it dies again (still no handler), visibly.
      await gw.services.worker.drain();
      assert.equal(
        (await db.selectFrom('jobs').select('status').where('id', '=', job.id).executeTakeFirstOrThrow()).status,
        'dead',
      );
    });

    test('roles: a viewer cannot create or revoke keys or see the audit log; finance cannot manage operators; refusals are audited as denied', async () => {
      const viewer = await enrolOperator(gw, { role: 'viewer' });
      const keyId = (await gw.services.keys.list())[0]!.id;
      assert.equal((await viewer.client.post('/dashboard/keys', { name: 'v', mode: 'test' })).status, 403);
      assert.equal((await viewer.client.post(`/dashboard/keys/${keyId}/revoke`)).status, 403);
      assert.equal((await viewer.client.get('/dashboard/audit')).status, 403);
      const viewerKeys = (await viewer.client.get('/dashboard/keys')).html;
      assert.doesNotMatch(viewerKeys, /Create a key|Revoke/, 'no buttons for what the role cannot do');
      assert.doesNotMatch(
        viewerKeys,
        /href="\/dashboard\/(operators|audit)"/,
        'no links to pages the role cannot open',
      );
      const endpointId = (await gw.services.endpoints.list('test'))[0]?.id;
      if (endpointId !== undefined)
        assert.equal(
          (await viewer.client.post(`/dashboard/endpoints/${endpointId}/rotate`)).status,
          403,
          'a viewer cannot rotate a signing secret',
        );
      const denied = await gw.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('actor_id', '=', viewer.id)
        .where('result', '=', 'denied')
        .execute();
      assert.equal(denied.length, endpointId === undefined ? 2 : 3, 'every refused change is in the log');

      const finance = await enrolOperator(gw, { role: 'finance' });
      assert.equal((await finance.client.get('/dashboard/operators')).status, 403);
      assert.equal(
        (await finance.client.post('/dashboard/operators/invite', { email: 'f@merchant.example', role: 'viewer' }))
          .status,
        403,
      );
      assert.equal((await finance.client.get('/dashboard/audit')).status, 200, 'finance reads the audit log');

      const developer = await enrolOperator(gw, { role: 'developer' });
      assert.equal(
        (await developer.client.post('/dashboard/keys', { name: 'dev', mode: 'test', scopes: 'payments:read' })).status,
        201,
        'developers manage keys',
      );
    });

    test("only an owner manages owners; an admin can invite and change others; a role change ends that operator's session", async () => {
      const admin = await enrolOperator(gw, { role: 'admin' });
      assert.equal(
        (await admin.client.post(`/dashboard/operators/${owner.id}/role`, { role: 'viewer' })).status,
        403,
        'an admin cannot demote an owner',
      );
      assert.equal((await admin.client.post(`/dashboard/operators/${owner.id}/disable`)).status, 403);
      assert.equal(
        (await admin.client.post('/dashboard/operators/invite', { email: 'new-owner@merchant.example', role: 'owner' }))
          .status,
        403,
        'an admin cannot invite an owner',
      );
      const invited = await admin.client.post('/dashboard/operators/invite', {
        email: 'new-viewer@merchant.example',
        role: 'viewer',
      });
      assert.equal(invited.status, 201);
      const link = /id="invite-link">([^<]+)</.exec(invited.html)?.[1];
      assert.ok(link?.startsWith(`${gw.services.config.publicUrl}/dashboard/enrol/inv_`), link);

      const target = await enrolOperator(gw, { role: 'viewer' });
      assert.equal(
        (await admin.client.post(`/dashboard/operators/${target.id}/role`, { role: 'finance' })).status,
        303,
      );
      const after = await target.client.get('/dashboard/payments');
      assert.equal(after.location, '/dashboard/login?ended=role_changed');
      assert.equal((await admin.client.post(`/dashboard/operators/${target.id}/disable`)).status, 303);
      assert.equal(
        (await owner.client.post(`/dashboard/operators/${owner.id}/disable`)).status,
        400,
        'nobody disables themselves',
      );
    });

    test('changing the password ends every session and names each failed rule', async () => {
      const op = await enrolOperator(gw, { role: 'viewer' });
      const weak = await op.client.post('/dashboard/settings/password', {
        current_password: op.password,
        new_password: 'password1234',
      });
      assert.equal(weak.status, 400);
      assert.match(weak.html, /data-rule="needs_uppercase"/);
      assert.match(weak.html, /data-rule="common_password"/);
      const next = strongPassword();
      const changed = await op.client.post('/dashboard/settings/password', {
        current_password: op.password,
        new_password: next,
      });
      assert.equal(changed.location, '/dashboard/login?notice=password_changed');
      assert.equal((await op.client.get('/dashboard/payments')).status, 303);
      clock.advance(30_000);
      const again = await signIn(gw, { ...op, password: next }, clock.nowMs());
      assert.equal((await again.get('/dashboard/payments')).status, 200);
    });

    test('passkey endpoints refuse what they must: no sign-in challenge, a forged answer (counted), no fresh password, bad shapes', async () => {
      const json = (client: DashboardClient, path: string, body: unknown) =>
        fetch(`${gw.url}${path}`, {
          method: 'POST',
          headers: {
            origin: gw.url,
            'content-type': 'application/json',
            cookie: [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          },
          body: JSON.stringify(body),
        });
      const stranger = new DashboardClient(gw.url);
      assert.equal((await json(stranger, '/dashboard/login/passkey/options', {})).status, 401, 'no sign-in challenge');

      const op = await enrolOperator(gw, { role: 'viewer' });
      const client = new DashboardClient(gw.url);
      await client.postOpen('/dashboard/login', { email: op.email, password: op.password });
      const verifyPage = await client.get('/dashboard/login/verify');
      assert.doesNotMatch(verifyPage.html, /passkey-sign-in/, 'no passkey button without a passkey');
      assert.doesNotMatch(
        verifyPage.headers.get('content-security-policy') ?? '',
        /script-src/,
        'and no script allowed',
      );
      const options = await json(client, '/dashboard/login/passkey/options', {});
      assert.equal(options.status, 400);
      assert.match(((await options.json()) as { message: string }).message, /no passkey yet/);

      const forged = {
        id: 'AAAA',
        rawId: 'AAAA',
        type: 'public-key',
        response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
        clientExtensionResults: {},
      };
      const unasked = await json(client, '/dashboard/login/passkey', { response: forged });
      assert.equal(unasked.status, 401, 'an answer to a challenge never issued');
      assert.match(((await unasked.json()) as { message: string }).message, /took too long or was already completed/);
      assert.equal(
        (await json(client, '/dashboard/login/passkey', { response: { ...forged, type: 'password' } })).status,
        400,
        'shape checked',
      );
      assert.equal((await json(client, '/dashboard/login/passkey', { response: forged, extra: 1 })).status, 400);
      // A forged answer to a real challenge (counted as a failure) is in test/browser/, where a
      // virtual authenticator can register the passkey first.

      clock.advance(5 * 60_000 + 1_000);
      const stale = await json(op.client, '/dashboard/settings/passkeys/options', { csrf_token: op.client.csrfToken });
      assert.equal(stale.status, 403, 'adding a passkey needs a recent password');
      assert.match((await op.client.get('/dashboard/settings')).html, /To add a passkey, confirm your password first/);
      assert.equal(
        (await json(op.client, '/dashboard/settings/passkeys/options', { csrf_token: 'A'.repeat(43) })).status,
        403,
        'CSRF token checked on JSON too',
      );
      await op.client.post('/dashboard/reauth', { password: op.password, return_to: '/dashboard/settings' });
      const fresh = await json(op.client, '/dashboard/settings/passkeys/options', { csrf_token: op.client.csrfToken });
      assert.equal(fresh.status, 200);
      const body = (await fresh.json()) as {
        options: { rp: { id: string }; authenticatorSelection: { userVerification: string } };
      };
      assert.equal(body.options.rp.id, '127.0.0.1');
      assert.equal(body.options.authenticatorSelection.userVerification, 'required');
    });

    test('operator actions are audited with operator, address, user agent, request id and result', async () => {
      await owner.client.post('/dashboard/reauth', { password: owner.password, return_to: '/dashboard/keys' });
      const page = await owner.client.request(
        'POST',
        '/dashboard/keys',
        { csrf_token: owner.client.csrfToken, name: 'audited', mode: 'test', scopes: 'payments:read' },
        { 'user-agent': USER_AGENT },
      );
      assert.equal(page.status, 201);
      const [row] = await auditRows('api_key.create');
      assert.equal(row?.actor_id, owner.id);
      assert.equal(row?.ip, '127.0.0.1');
      assert.equal(row?.user_agent, USER_AGENT);
      assert.equal(row?.request_id, page.headers.get('request-id'));
      assert.equal(row?.result, 'success');
      const failed = await gw.services.database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('action', '=', 'operator.login_failed')
        .execute();
      assert.ok(failed.every((r) => r.result === 'failure'));
      const filtered = await owner.client.get(`/dashboard/audit?actor=${owner.id}&action=api_key&result=success`);
      assert.match(filtered.html, /api_key\.create/);
      assert.doesNotMatch(filtered.html, /operator\.login_failed/);
    });
  });
}

describe('the dashboard limited to trusted networks (OPS-11)', () => {
  test('outside the configured networks every dashboard path is 404; the API is unaffected', async () => {
    const [sqlite] = await testDialects();
    const gw = await startTestGateway(sqlite!, { env: { PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS: '10.0.0.0/8' } });
    try {
      const client = new DashboardClient(gw.url);
      assert.equal((await client.get('/dashboard/login')).status, 404);
      assert.equal(
        (await client.postOpen('/dashboard/login', { email: 'a@merchant.example', password: 'x' })).status,
        404,
      );
      assert.equal((await gw.api('GET', '/v1/payments')).status, 200);
    } finally {
      await gw.close();
    }
    const open = await startTestGateway(sqlite!, { env: { PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS: '127.0.0.0/8,::1' } });
    try {
      assert.equal((await new DashboardClient(open.url).get('/dashboard/login')).status, 200);
    } finally {
      await open.close();
    }
  });
});

describe('test and live data in the dashboard', () => {
  test('with live mode enabled the operator switches views; each shows only its own mode', async () => {
    const [sqlite] = await testDialects();
    const gw = await startTestGateway(sqlite!, { clock: manualClock(Date.now()), env: liveModeEnv() });
    try {
      const created = await gw.api('POST', '/v1/payments', {
        amount: 1000,
        currency: 'NGN',
        reference: 'test-only-order',
        customer: { email: 't@customer.example' },
        redirect_url: 'https://merchant.example/r',
      });
      assert.equal(created.status, 201);
      const owner = await enrolOperator(gw, { role: 'owner' });
      const testView = await owner.client.get('/dashboard/payments');
      assert.match(testView.html, /test-only-order/);
      assert.match(testView.html, /id="switch-mode"/);
      assert.equal(
        (await owner.client.post('/dashboard/mode', { mode: 'live', return_to: '/dashboard/payments' })).location,
        '/dashboard/payments',
      );
      const liveView = await owner.client.get('/dashboard/payments');
      assert.match(liveView.html, /live mode/);
      assert.doesNotMatch(liveView.html, /test-only-order/, 'test payments never show among live ones');
      assert.equal((await owner.client.get(`/dashboard/payments/${created.body.id}`)).status, 404);
      const liveKey = await owner.client.post('/dashboard/keys', {
        name: 'live backend',
        mode: 'live',
        scopes: ['payments:read', 'payments:write'],
      });
      assert.equal(liveKey.status, 201);
      assert.match(liveKey.html, /id="new-key">sk_live_/);
    } finally {
      await gw.close();
    }
  });
});

describe('per-address sign-in throttling', () => {
  test('beyond the budget, sign-in answers 429 with Retry-After, before checking anything', async () => {
    const [sqlite] = await testDialects();
    const gw = await startTestGateway(sqlite!, {
      clock: manualClock(Date.now()),
      env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '3' },
    });
    try {
      const client = new DashboardClient(gw.url);
      for (let i = 0; i < 3; i += 1)
        assert.equal(
          (await client.postOpen('/dashboard/login', { email: 'a@merchant.example', password: 'Wrong-password-1!' }))
            .status,
          401,
        );
      const limited = await client.postOpen('/dashboard/login', {
        email: 'a@merchant.example',
        password: 'Wrong-password-1!',
      });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      assert.match(limited.html, /Too many sign-in attempts/);
    } finally {
      await gw.close();
    }
  });
});
