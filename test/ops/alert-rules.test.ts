// MON-1, MON-2: the shipped alert rules are valid and each one fires on its signal (promtool, from
// Debian's prometheus package); every series they name is one the gateway exports; every alert has
// its section in docs/alerts.md; and the series added for the rules move when their events happen
// (the payout rules' series: test/e2e/payout-rules-limits.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { systemClock } from '../../src/clock.ts';
import { writeAudit } from '../../src/audit/audit.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { IN_CI } from '../helpers/services.ts';

const RULES = 'ops/prometheus/paywarden-alerts.yml';
const RULE_TESTS = 'ops/prometheus/paywarden-alerts.test.yml';
const rulesText = readFileSync(RULES, 'utf8');
const [sqlite] = await testDialects();

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const promtoolMissing = promtool.error !== undefined || promtool.status !== 0;
const skip = promtoolMissing && !IN_CI ? 'promtool is not installed (apt-get install prometheus)' : false;

describe('alert rules', () => {
  test('promtool check rules: the file is valid', { skip }, () => {
    const out = execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.match(out, /SUCCESS: \d+ rules found/);
  });

  test('promtool test rules: every alert fires on its signal and not below it', { skip }, () => {
    const run = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    for (const [, alert] of rulesText.matchAll(/- alert: (\w+)/g)) assert.ok(tested.has(alert), `${alert} has no test`);
  });

  test('every alert has its section in docs/alerts.md', () => {
    const guide = readFileSync('docs/alerts.md', 'utf8');
    for (const [, alert] of rulesText.matchAll(/- alert: (\w+)/g))
      assert.match(guide, new RegExp(`^## ${alert}$`, 'm'), `docs/alerts.md has no "## ${alert}"`);
  });
});

describe('the series the rules use', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway(sqlite!);
  });
  after(async () => gw.close());
  const scrape = async () => (await fetch(`${gw.url}/metrics`)).text();

  test('each one named in a rule is exported by the gateway', async () => {
    const exported = new Set([...(await scrape()).matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((m) => m[1]));
    const named = new Set(
      [...rulesText.matchAll(/\b(paywarden_\w+)/g)].map((m) => m[1]!.replace(/_(count|bucket|sum)$/, '')),
    );
    for (const series of named) assert.ok(exported.has(series), `${series} is named in a rule but not exported`);
  });

  test('they move: per-key requests, failed sign-ins and lockouts, key expiry', async () => {
    const list = await gw.api('GET', '/v1/payments');
    assert.equal(list.status, 200);
    const [key] = await gw.services.keys.list();
    assert.ok(key !== undefined);
    for (const action of ['operator.login_failed', 'operator.login_failed', 'operator.locked'])
      await writeAudit(gw.services.database.db, systemClock, {
        mode: null,
        actorType: 'operator',
        actorId: null,
        action,
        objectType: 'operator',
        objectId: 'op_test',
        result: action === 'operator.locked' ? 'success' : 'failure',
      });
    await gw.services.database.db
      .updateTable('api_keys')
      .set({ expires_at: Date.now() + 86_400_000 })
      .where('id', '=', key.id)
      .execute();
    const text = await scrape();
    assert.match(text, new RegExp(`^paywarden_api_requests_total\\{key_id="${key.id}",mode="test"\\} 1$`, 'm'));
    assert.match(text, /^paywarden_audit_recent\{action="operator.login_failed",result="failure"\} 2$/m);
    assert.match(text, /^paywarden_audit_recent\{action="operator.locked",result="success"\} 1$/m);
    const expiry = new RegExp(
      `^paywarden_api_key_expires_in_seconds\\{key_id="${key.id}",mode="test"\\} ([\\d.]+)$`,
      'm',
    ).exec(text);
    assert.ok(expiry !== null && Number(expiry[1]) > 86_000 && Number(expiry[1]) <= 86_400);
  });
});
