// Issue 16 §4, lockout (OPS-3): the lock stays, but a locked-out operator is told so once they
// enter the right password (anyone else gets the generic answer, so it enumerates nobody), an owner
// can end it from the dashboard or the command line (audited), and each lockout shows on /metrics
// for PaywardenOperatorLockout. On a real gateway, both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { MAX_FAILED_ATTEMPTS, OPERATOR_ERROR_MESSAGES } from '../../src/operators/accounts.ts';
import { escapeHtml } from '../../src/dashboard/html.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { DashboardClient, enrolOperator, type TestOperator } from '../helpers/dashboard.ts';

const problemOf = (html: string) => /id="problem"[^>]*>([^<]*)</.exec(html)?.[1];

for (const dialect of await testDialects()) {
  describe(`operator lockout on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let owner: TestOperator;
    let admin: TestOperator;
    before(async () => {
      // Room for several lockouts from one test address (the per-address budget is a separate guard).
      gw = await startTestGateway(dialect, { env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '1000' } });
      owner = await enrolOperator(gw, { role: 'owner' });
      admin = await enrolOperator(gw, { role: 'admin' });
    });
    after(async () => gw?.close());

    const attempt = (email: string, password: string) =>
      new DashboardClient(gw.url).postOpen('/dashboard/login', { email, password });

    async function lockOut(op: TestOperator): Promise<string> {
      let generic = '';
      for (let i = 0; i < MAX_FAILED_ATTEMPTS; i += 1)
        generic = problemOf((await attempt(op.email, `Wrong-guess-${i}!X`)).html) ?? '';
      return generic;
    }

    test('locked: the right password is told so; a wrong one and an unknown email get the generic message', async () => {
      const victim = await enrolOperator(gw, { role: 'viewer' });
      const generic = await lockOut(victim);
      assert.equal(generic, escapeHtml(OPERATOR_ERROR_MESSAGES.invalid_credentials));
      const right = await attempt(victim.email, victim.password);
      assert.equal(right.status, 401);
      assert.equal(problemOf(right.html), escapeHtml(OPERATOR_ERROR_MESSAGES.locked));
      assert.match(right.html, /ask an owner to unlock it/);
      assert.equal(problemOf((await attempt(victim.email, 'Another-wrong-1!X')).html), generic);
      assert.equal(problemOf((await attempt('nobody@merchant.example', victim.password)).html), generic);
      // The lockout is on /metrics, where PaywardenOperatorLockout reads it.
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /paywarden_audit_recent\{action="operator.locked",result="success"\} [1-9]/);
    });

    test('an owner unlocks from the Operators page (fresh password, audited); an admin cannot', async () => {
      const victim = await enrolOperator(gw, { role: 'viewer' });
      await lockOut(victim);
      const adminPage = await admin.client.get('/dashboard/operators');
      assert.equal(adminPage.status, 200);
      assert.ok(!adminPage.html.includes(`/dashboard/operators/${victim.id}/unlock`), 'no button for an admin');
      assert.equal((await admin.client.post(`/dashboard/operators/${victim.id}/unlock`)).status, 403);

      const ownerClient = owner.client;
      const reauth = await ownerClient.post('/dashboard/reauth', {
        password: owner.password,
        return_to: '/dashboard/operators',
      });
      assert.equal(reauth.status, 303, 'the password entered again: sensitive actions allowed for 5 minutes');
      const page = await ownerClient.get('/dashboard/operators');
      assert.match(page.html, /locked until/);
      assert.ok(page.html.includes(`action="/dashboard/operators/${victim.id}/unlock"`), 'the owner sees Unlock');
      const unlocked = await ownerClient.post(`/dashboard/operators/${victim.id}/unlock`);
      assert.equal(unlocked.status, 303, unlocked.html.slice(0, 300));
      assert.equal((await attempt(victim.email, victim.password)).location, '/dashboard/login/verify');
      const again = await ownerClient.post(`/dashboard/operators/${victim.id}/unlock`);
      assert.equal(again.status, 400, 'not locked any more');
      const audited = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['actor_type', 'actor_id', 'result'])
        .where('object_id', '=', victim.id)
        .where('action', '=', 'operator.unlocked')
        .execute();
      assert.deepEqual(audited, [{ actor_type: 'operator', actor_id: owner.id, result: 'success' }]);
    });

    test('paywarden operators unlock <id> ends a lockout from the command line, audited', async () => {
      const victim = await enrolOperator(gw, { role: 'viewer' });
      await lockOut(victim);
      // Run beside the gateway, not blocking this process (the gateway lives in it).
      const cli = async (...args: string[]) => {
        try {
          const { stdout, stderr } = await promisify(execFile)(process.execPath, ['src/main.ts', ...args], {
            env: {
              ...process.env,
              PAYWARDEN_DATA_DIR: gw.dataDir,
              PAYWARDEN_DATABASE_URL: gw.services.config.databaseUrl,
              PAYWARDEN_LOG_LEVEL: 'silent',
            },
            encoding: 'utf8',
            timeout: 60_000,
          });
          return { status: 0, stdout, stderr };
        } catch (error) {
          const failed = error as { code: number; stdout: string; stderr: string };
          return { status: failed.code, stdout: failed.stdout, stderr: failed.stderr };
        }
      };
      const listed = await cli('operators', 'list');
      assert.match(listed.stdout, new RegExp(`${victim.id}\\t.*\\tlocked until `));
      const done = await cli('operators', 'unlock', victim.id);
      assert.equal(done.status, 0, done.stderr);
      assert.match(done.stdout, /Unlocked op_/);
      assert.equal((await attempt(victim.email, victim.password)).location, '/dashboard/login/verify');
      const missing = await cli('operators', 'unlock', 'op_0000000000000000000000');
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /No such operator/);
      const audited = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['actor_type'])
        .where('object_id', '=', victim.id)
        .where('action', '=', 'operator.unlocked')
        .execute();
      assert.deepEqual(audited, [{ actor_type: 'cli' }]);
    });
  });
}
