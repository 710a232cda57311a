// The commands a newcomer types: `npm start` (first run shows a key once), `keys`, `operators`, `migrate`,
// `simulate`, and `demo` driving a whole payment against a running gateway.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.ts';
import { runDemo } from '../../src/cli/demo.ts';
import { testDialects } from '../helpers/databases.ts';
import { openDatabase } from '../../src/db/database.ts';
import { createJobQueue } from '../../src/jobs/queue.ts';
import { systemClock } from '../../src/clock.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const cli = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['src/main.ts', ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });

/** Starts a long-running command and resolves once its output matches. */
function startUntil(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/main.ts', ...args], { env: { ...process.env, ...env } });
    let output = '';
    // A gateway that never gets ready is killed, not left running after the test has failed.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ${ready} in: ${output}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

// Every test here runs the command line several times, each a Node process that starts and migrates:
// seconds each on a quiet machine, tens of seconds at load 15, so each test has 5 minutes, not 2.
const SLOW = { timeout: 300_000 };
describe('command line', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'paywarden-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('start: the first run creates a test key and shows it once; the next run does not', SLOW, async () => {
    const env = {
      PAYWARDEN_DATA_DIR: join(dir, 'start'),
      PAYWARDEN_PORT: '0',
      PAYWARDEN_SIMULATOR_PORT: '0',
      PAYWARDEN_LOG_LEVEL: 'warn',
    };
    const first = await startUntil(['start'], env, /watch a whole payment/);
    const key = /(sk_test_[0-9A-Za-z]{48})/.exec(first.output())?.[1];
    assert.ok(key, first.output());
    assert.match(first.output(), /curl -s http:\/\/127\.0\.0\.1:\d+\/v1\/payments/);
    assert.match(first.output(), /Simulator:\s+http:\/\/127\.0\.0\.1:\d+/);
    assert.match(first.output(), /Dashboard:\s+http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    assert.match(first.output(), /operators create --email/, 'how to make the first owner');
    await stop(first.child);
    const second = await startUntil(['start'], env, /watch a whole payment/);
    assert.doesNotMatch(second.output(), /sk_test_[0-9A-Za-z]{48}/, 'the key is never shown again');
    await stop(second.child);
  });

  test('start refuses a bad configuration with every problem listed and a non-zero exit', SLOW, () => {
    const result = cli(['start'], {
      PAYWARDEN_DATA_DIR: join(dir, 'bad'),
      PAYWARDEN_PORT: 'x',
      PAYWARDEN_LIVE_ENABLED: 'true',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /PAYWARDEN_PORT/);
    assert.match(result.stderr, /FLUTTERWAVE_LIVE_SECRET_KEY/);
    assert.match(result.stderr, /needs TLS/);
  });

  test('keys create, list and revoke; live keys need live mode', SLOW, () => {
    const env = { PAYWARDEN_DATA_DIR: join(dir, 'keys') };
    const created = cli(['keys', 'create', '--mode', 'test', '--name', 'ci'], env);
    assert.equal(created.status, 0, created.stderr);
    const key = /(sk_test_[0-9A-Za-z]{48})/.exec(created.stdout)?.[1];
    const id = /(key_[0-9A-Za-z]{22})/.exec(created.stdout)?.[1];
    assert.ok(key && id);
    const listed = cli(['keys', 'list'], env);
    assert.match(listed.stdout, new RegExp(`${id}\\t${key.slice(0, 12)}…\\tci\\ttest`));
    assert.ok(!listed.stdout.includes(key), 'the list never shows the key');
    assert.equal(cli(['keys', 'revoke', id], env).status, 0);
    assert.match(cli(['keys', 'list'], env).stdout, new RegExp(`${id}.*\\d{4}-\\d{2}-\\d{2}T[^\\t]*$`, 'm'));
    assert.equal(cli(['keys', 'revoke', id], env).status, 1, 'revoking twice reports nothing revoked');
    const live = cli(['keys', 'create', '--mode', 'live'], env);
    assert.equal(live.status, 2);
    assert.match(live.stderr, /Live mode is not enabled/);
    assert.equal(cli(['keys', 'create', '--name', 'bad;name'], env).status, 2);
  });

  test(
    'keys create takes scopes (repeated or comma-separated), refuses unknown ones, and list shows them',
    SLOW,
    () => {
      const env = { PAYWARDEN_DATA_DIR: join(dir, 'key-scopes') };
      const created = cli(
        ['keys', 'create', '--name', 'reader', '--scope', 'payments:read,events:read', '--scope', 'banks:read'],
        env,
      );
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /with scopes payments:read events:read banks:read\./);
      const id = /(key_[0-9A-Za-z]{22})/.exec(created.stdout)?.[1];
      assert.match(
        cli(['keys', 'list'], env).stdout,
        new RegExp(`${id}\\t.*\\ttest\\tpayments:read,events:read,banks:read\\t`),
      );
      const unknown = cli(['keys', 'create', '--scope', 'payments:delete'], env);
      assert.equal(unknown.status, 2);
      assert.match(unknown.stderr, /Unknown scope "payments:delete"/);
      const defaults = cli(['keys', 'create', '--name', 'plain'], env);
      assert.match(
        defaults.stdout,
        /with scopes payments:read payments:write webhook_endpoints:read webhook_endpoints:write events:read\./,
      );
    },
  );

  test(
    'keys create --expires-in-days warns in keys list within 14 days; keys roll makes a new key, the old one says until when',
    SLOW,
    () => {
      const env = { PAYWARDEN_DATA_DIR: join(dir, 'key-roll') };
      const created = cli(['keys', 'create', '--name', 'soon', '--expires-in-days', '10', '--signed'], env);
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /signing secret, also shown only now:\n\n  whsk_[0-9A-Za-z]{43}\n/);
      const id = /(key_[0-9A-Za-z]{22})/.exec(created.stdout)?.[1];
      const listed = cli(['keys', 'list'], env).stdout;
      assert.match(
        listed,
        new RegExp(`${id}\\t.*\\tyes\\tanywhere\\t.*WARNING: expires within 14 days \\(10 left\\); roll it`),
      );
      assert.equal(cli(['keys', 'create', '--expires-in-days', '366'], env).status, 2, 'never more than a year');
      assert.equal(cli(['keys', 'create', '--allow', '10.0.0.0/33'], env).status, 2, 'a bad range');
      assert.equal(cli(['keys', 'roll', id!, '--overlap-hours', '169'], env).status, 1, 'at most 7 days of overlap');
      const rolled = cli(['keys', 'roll', id!, '--overlap-hours', '2'], env);
      assert.equal(rolled.status, 0, rolled.stderr);
      assert.match(rolled.stdout, /keeps working until \d{4}-\d{2}-\d{2}T.*then answers api_key_expired/);
      assert.match(rolled.stdout, /sk_test_[0-9A-Za-z]{48}/);
      assert.match(rolled.stdout, /whsk_[0-9A-Za-z]{43}/, 'a signing key rolls to a signing key with a new secret');
      const newId = /to (key_[0-9A-Za-z]{22})/.exec(rolled.stdout)?.[1];
      assert.match(cli(['keys', 'list'], env).stdout, new RegExp(`${id}\\t.*rolled to ${newId}, works until`));
      const again = cli(['keys', 'roll', id!], env);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /already rolled/);
      const pk = cli(['keys', 'create', '--publishable', '--name', 'checkout'], env);
      assert.equal(pk.status, 0, pk.stderr);
      assert.match(pk.stdout, /pk_test_[0-9A-Za-z]{48}/);
      assert.equal(cli(['keys', 'create', '--publishable', '--scope', 'payments:read'], env).status, 2);
    },
  );

  test(
    'operators create prints a one-time enrolment link; the first operator must be an owner; list shows who exists',
    SLOW,
    () => {
      const env = { PAYWARDEN_DATA_DIR: join(dir, 'operators'), PAYWARDEN_PUBLIC_URL: 'https://pay.merchant.example' };
      const notOwner = cli(['operators', 'create', '--email', 'dev@merchant.example', '--role', 'developer'], env);
      assert.equal(notOwner.status, 2);
      assert.match(notOwner.stderr, /first operator must be an owner/);
      const created = cli(['operators', 'create', '--email', 'Owner@Merchant.example'], env);
      assert.equal(created.status, 0, created.stderr);
      assert.match(
        created.stdout,
        /https:\/\/pay\.merchant\.example\/dashboard\/enrol\/inv_[0-9A-Za-z]{22}\.[0-9A-Za-z_-]{43}/,
      );
      assert.match(created.stdout, /expires at \d{4}-\d{2}-\d{2}T/);
      const again = cli(['operators', 'create', '--email', 'owner@merchant.example'], env);
      assert.equal(again.status, 0, 'a lost link can be replaced');
      assert.notEqual(/enrol\/(\S+)/.exec(again.stdout)?.[1], /enrol\/(\S+)/.exec(created.stdout)?.[1]);
      assert.equal(cli(['operators', 'create', '--email', 'not-an-email'], env).status, 2);
      assert.equal(cli(['operators', 'create', '--email', 'x@merchant.example', '--role', 'root'], env).status, 2);
      assert.equal(cli(['operators', 'list'], env).status, 0);
    },
  );

  test(
    'jobs list shows dead jobs with their error on one line; run-again queues one, audited to the command line',
    SLOW,
    async () => {
      const env = { PAYWARDEN_DATA_DIR: join(dir, 'jobs') };
      assert.equal(cli(['jobs', 'list'], env).status, 0);
      assert.match(cli(['jobs', 'list'], env).stdout, /No jobs are waiting, running or dead/);
      const database = openDatabase(join(dir, 'jobs', 'paywarden.sqlite'));
      try {
        const queue = createJobQueue({ db: database.db, dialect: database.dialect, clock: systemClock });
        await queue.enqueue(database.db, { kind: 'deliver_event', payload: {} });
        const [job] = await queue.claim(1, 60_000);
        await queue.kill(job!.id, 'endpoint answered 500\nafter 8 attempts');

        const listed = cli(['jobs', 'list'], env);
        assert.equal(listed.status, 0, listed.stderr);
        assert.match(listed.stdout, /dead\tdeliver_event\t1/);
        assert.match(
          listed.stdout,
          new RegExp(`${job!.id}\\tdeliver_event\\t1\\t\\S+\\tendpoint answered 500 after 8 attempts\\n?$`, 'm'),
          'the error stays on its line',
        );

        const ran = cli(['jobs', 'run-again', job!.id], env);
        assert.equal(ran.status, 0, ran.stderr);
        assert.match(ran.stdout, /Queued job_/);
        const row = await database.db
          .selectFrom('jobs')
          .selectAll()
          .where('id', '=', job!.id)
          .executeTakeFirstOrThrow();
        assert.equal(row.status, 'queued');
        assert.equal(Number(row.attempts), 0);
        const audit = await database.db
          .selectFrom('audit_log')
          .selectAll()
          .where('action', '=', 'job.run_again')
          .executeTakeFirstOrThrow();
        assert.equal(audit.actor_type, 'cli');
        assert.equal(audit.object_id, job!.id);

        const again = cli(['jobs', 'run-again', job!.id], env);
        assert.equal(again.status, 1);
        assert.match(again.stderr, /no dead job/);
        const bad = cli(['jobs', 'run-again', 'job_../../etc'], env);
        assert.equal(bad.status, 1);
        assert.match(bad.stderr, /is not a job id/);
      } finally {
        await database.close();
      }
    },
  );

  test('migrate applies the schema and exits', SLOW, () => {
    const result = cli(['migrate'], { PAYWARDEN_DATA_DIR: join(dir, 'migrate') });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /migrations applied to sqlite:/);
  });

  test('simulate flutterwave runs the simulator alone with the printed credentials', SLOW, async () => {
    const sim = await startUntil(['simulate', 'flutterwave', '--port', '0'], {}, /control API/);
    try {
      const url = /flutterwave simulator on (http:\/\/\S+)/.exec(sim.output())?.[1];
      const secretKey = /secretKey:\s+(\S+)/.exec(sim.output())?.[1];
      const res = await fetch(`${url}/v3/transactions/1/verify`, { headers: { authorization: `Bearer ${secretKey}` } });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { message: string }).message, /No transaction was found/);
      assert.equal(
        (await fetch(`${url}/v3/transactions/1/verify`, { headers: { authorization: 'Bearer wrong' } })).status,
        401,
      );
    } finally {
      await stop(sim.child);
    }
    assert.equal(cli(['simulate', 'acme'], {}).status, 2);
  });

  for (const provider of ['paystack', 'stripe', 'kwikpaisa']) {
    test(`simulate ${provider} runs alone, with the same control API`, async () => {
      const sim = await startUntil(['simulate', provider, '--port', '0'], {}, /control API/);
      try {
        const url = new RegExp(`${provider} simulator on (http://\\S+)`).exec(sim.output())?.[1];
        assert.ok(url, sim.output());
        const faults = await fetch(`${url}/_sim/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ fault: 'http_500' }),
        });
        assert.equal(faults.status, 201);
        assert.equal((await fetch(`${url}/_sim/webhooks`)).status, 200);
      } finally {
        await stop(sim.child);
      }
    });
  }
});

describe('demo', () => {
  let gw: TestGateway;
  before(async () => {
    const [sqlite] = await testDialects();
    gw = await startTestGateway(sqlite!, { start: { runWorkers: true } });
  });
  after(async () => gw.close());

  test('drives a complete payment and reports each step', async () => {
    const lines: string[] = [];
    const code = await runDemo({
      url: gw.url,
      key: gw.key,
      config: loadConfig({ PAYWARDEN_DATA_DIR: gw.dataDir }),
      out: (line) => lines.push(line),
      timeoutMs: 15_000,
    });
    const output = lines.join('\n');
    assert.equal(code, 0, output);
    for (const step of [
      'register a merchant webhook endpoint',
      'create a payment',
      'clicks Pay',
      'webhook in, verified with provider, event delivered',
      'read the payment back',
    ])
      assert.match(output, new RegExp(`✓ .*${step}.*\\d+\\.\\d ms`));
    assert.match(output, /signature valid/);
    assert.match(output, /is succeeded/);
    assert.equal((await gw.api('GET', '/v1/webhook_endpoints')).body.data.length, 0, 'the demo cleans up its endpoint');
  });

  test('says what to check when the gateway is not there', async () => {
    const lines: string[] = [];
    const code = await runDemo({
      url: 'http://127.0.0.1:9',
      key: gw.key,
      config: loadConfig({ PAYWARDEN_DATA_DIR: gw.dataDir }),
      out: (line) => lines.push(line),
    });
    assert.equal(code, 1);
    assert.match(lines.join('\n'), /Is the gateway running/);
  });
});
