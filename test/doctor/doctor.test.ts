// LIVE-1: `paywarden doctor` against real gateways. One deployment made right passes every check;
// then deployments made wrong on purpose, one fault each, prove that each check can fail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../src/clock.ts';
import { runDoctor, type DoctorReport } from '../../src/doctor/doctor.ts';
import { runBackup } from '../../src/backup/backup-service.ts';
import { newId } from '../../src/ids.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { makeCertificate } from '../helpers/certificates.ts';
import { startFaultProxy, type FaultProxyOptions } from '../helpers/fault-proxy.ts';

const [sqlite] = await testDialects();
const cert = makeCertificate();
const work = mkdtempSync(join(tmpdir(), 'paywarden-doctor-'));

/** What a correct live deployment's environment looks like (values generated, never real). */
function liveEnv(): Record<string, string> {
  return {
    PAYWARDEN_LIVE_ENABLED: 'true',
    PAYWARDEN_LIVE_PROVIDERS: 'flutterwave',
    PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_TLS_CERT_FILE: cert.certFile,
    PAYWARDEN_TLS_KEY_FILE: cert.keyFile,
    FLUTTERWAVE_LIVE_SECRET_KEY: `FLWSECK-${randomBytes(16).toString('hex')}-X`,
    FLUTTERWAVE_LIVE_SECRET_HASH: randomBytes(24).toString('hex'),
    FLUTTERWAVE_LIVE_BASE_URL: 'https://127.0.0.1:9',
  };
}

function statusOf(report: DoctorReport | { results: DoctorReport['results'] }, check: string): string {
  const found = report.results.find((r) => r.check === check);
  assert.ok(found, `no ${check} in ${report.results.map((r) => r.check).join(', ')}`);
  return found.status;
}

function fails(report: DoctorReport): string[] {
  return report.results.filter((r) => r.status === 'fail').map((r) => `${r.check}: ${r.detail}`);
}

describe('paywarden doctor', () => {
  let live: TestGateway;
  let env: Record<string, string>;
  let plain: TestGateway;
  const run = (overrides: Partial<Parameters<typeof runDoctor>[0]> = {}) =>
    runDoctor({
      url: live.url,
      caFile: cert.certFile,
      env: { ...env, PAYWARDEN_DATA_DIR: live.dataDir, PAYWARDEN_DATABASE_URL: join(live.dataDir, 'unused.sqlite') },
      database: live.services.database,
      clock: systemClock,
      ...overrides,
    });

  before(async () => {
    env = liveEnv();
    live = await startTestGateway(sqlite!, { env });
    await live.services.keys.create({ mode: 'live', name: 'production' });
    await runBackup({ database: live.services.database, databaseUrl: '', clock: systemClock }, join(work, 'backups'));
    // Behind the test's TLS-terminating proxy, as a deployment behind a proxy is configured.
    plain = await startTestGateway(sqlite!, { env: { PAYWARDEN_TRUSTED_PROXY: '127.0.0.1' } });
  });
  after(async () => {
    await live.close();
    await plain.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('a deployment made right: no check fails, and every check is reported with its requirement', async () => {
    const report = await run();
    assert.deepEqual(fails(report), []);
    assert.equal(report.ok, true);
    for (const check of [
      'tls.versions',
      'tls.ciphers',
      'tls.certificate',
      'headers.api',
      'headers.dashboard',
      'http.methods',
      'clock.skew',
      'live.mode',
      'live.credentials.flutterwave',
      'live.webhook-secret.flutterwave',
      'secrets.master-key',
      'db.durability',
      'backup.recent',
      'jobs.dead',
      'endpoints.https',
      'deps.advisories',
    ])
      assert.equal(statusOf(report, check), 'pass', check);
    for (const r of report.results) assert.match(r.requirement, /^[A-Z]+-\d+/);
    // Said honestly: from the same host, exposure cannot be told.
    assert.equal(statusOf(report, 'network.metrics'), 'warn');
    assert.equal(statusOf(report, 'audit.chain'), 'pass');
  });

  describe('through a proxy made wrong on purpose, one fault each', () => {
    const good: Omit<FaultProxyOptions, 'certificate'> = {
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384',
      blockPrefixes: ['/metrics', '/dashboard'],
    };
    async function doctorThrough(fault: Partial<FaultProxyOptions>, outside = false) {
      const proxy = await startFaultProxy(plain.url, { certificate: cert, ...good, ...fault });
      try {
        return await runDoctor({ url: proxy.url, caFile: cert.certFile, clock: systemClock, outside });
      } finally {
        await proxy.close();
      }
    }

    test('the correct proxy passes the remote checks, from outside too', async () => {
      const report = await doctorThrough({}, true);
      for (const check of [
        'tls.versions',
        'tls.ciphers',
        'tls.certificate',
        'headers.api',
        'http.methods',
        'network.metrics',
        'network.dashboard',
      ])
        assert.equal(statusOf(report, check), 'pass', check);
    });
    test('TLS 1.0 and 1.1 accepted: tls.versions fails', async () => {
      assert.equal(
        statusOf(await doctorThrough({ minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }), 'tls.versions'),
        'fail',
      );
    });
    test("Node's default suites (CBC) accepted: tls.ciphers fails", async () => {
      const report = await doctorThrough({ ciphers: 'DEFAULT' });
      assert.equal(statusOf(report, 'tls.ciphers'), 'fail');
      assert.equal(statusOf(report, 'tls.versions'), 'pass');
    });
    test('a certificate for another name: tls.certificate fails', async () => {
      assert.equal(
        statusOf(
          await doctorThrough({ certificate: makeCertificate({ subjectAltName: 'DNS:other.example' }) }),
          'tls.certificate',
        ),
        'fail',
      );
    });
    test('a certificate that expires tomorrow: tls.certificate fails', async () => {
      assert.equal(
        statusOf(await doctorThrough({ certificate: makeCertificate({ days: 1 }) }), 'tls.certificate'),
        'fail',
      );
    });
    test('a certificate nobody trusts (no --ca): tls.certificate fails', async () => {
      const proxy = await startFaultProxy(plain.url, { certificate: cert, ...good });
      try {
        const report = await runDoctor({ url: proxy.url, clock: systemClock });
        assert.equal(statusOf(report, 'tls.certificate'), 'fail');
      } finally {
        await proxy.close();
      }
    });
    test('HSTS stripped by the proxy: headers.api fails', async () => {
      assert.equal(
        statusOf(await doctorThrough({ dropHeaders: ['strict-transport-security'] }), 'headers.api'),
        'fail',
      );
    });
    test('Cache-Control stripped by the proxy: headers.api fails', async () => {
      assert.equal(statusOf(await doctorThrough({ dropHeaders: ['cache-control'] }), 'headers.api'), 'fail');
    });
    test('TRACE answered by the proxy: http.methods fails', async () => {
      assert.equal(statusOf(await doctorThrough({ answerTrace: true }), 'http.methods'), 'fail');
    });
    test('/metrics and the dashboard forwarded to the world: both exposure checks fail from outside', async () => {
      const report = await doctorThrough({ blockPrefixes: [] }, true);
      assert.equal(statusOf(report, 'network.metrics'), 'fail');
      assert.equal(statusOf(report, 'network.dashboard'), 'fail');
    });
    test('plain http: tls fails', async () => {
      const report = await runDoctor({ url: plain.url, clock: systemClock });
      assert.equal(statusOf(report, 'tls'), 'fail');
      assert.equal(report.ok, false);
    });
  });

  describe('the deployment itself made wrong, one fault each', () => {
    test('live mode off: live.mode fails', async () => {
      const { PAYWARDEN_LIVE_ENABLED: _, ...testOnly } = env;
      assert.equal(
        statusOf(await run({ env: { ...testOnly, PAYWARDEN_DATA_DIR: live.dataDir } }), 'live.mode'),
        'fail',
      );
    });
    test('a test key as the live provider key: live.credentials fails (and the config would not load)', async () => {
      const report = await run({
        env: {
          ...env,
          PAYWARDEN_DATA_DIR: live.dataDir,
          FLUTTERWAVE_LIVE_SECRET_KEY: `FLWSECK_TEST-${randomBytes(8).toString('hex')}-X`,
        },
      });
      assert.equal(statusOf(report, 'live.credentials.flutterwave'), 'fail');
      assert.equal(statusOf(report, 'config.valid'), 'fail');
    });
    test("a live provider's webhook secret missing: live.webhook-secret fails", async () => {
      const { FLUTTERWAVE_LIVE_SECRET_HASH: _, ...rest } = env;
      assert.equal(
        statusOf(await run({ env: { ...rest, PAYWARDEN_DATA_DIR: live.dataDir } }), 'live.webhook-secret.flutterwave'),
        'fail',
      );
    });
    test('a typed master key (32 zero bytes): secrets.master-key fails', async () => {
      const report = await run({
        env: { ...env, PAYWARDEN_DATA_DIR: live.dataDir, PAYWARDEN_MASTER_KEY: Buffer.alloc(32).toString('base64') },
      });
      assert.equal(statusOf(report, 'secrets.master-key'), 'fail');
    });
    test("the server's clock 10 minutes off: clock.skew fails", async () => {
      const skewed: Clock = { nowMs: () => Date.now() + 600_000 };
      assert.equal(statusOf(await run({ clock: skewed }), 'clock.skew'), 'fail');
    });
    test('the last verified backup older than allowed: backup.recent fails', async () => {
      const later: Clock = { nowMs: () => Date.now() + 27 * 3_600_000 };
      const report = await run({ clock: later });
      assert.equal(statusOf(report, 'backup.recent'), 'fail');
    });
    test('a dead job: jobs.dead fails', async () => {
      const id = newId('job');
      await live.services.database.db
        .insertInto('jobs')
        .values({
          id,
          kind: 'verify_payment',
          payload_json: '{}',
          status: 'dead',
          attempts: 8,
          max_attempts: 8,
          run_at: 0,
          lease_until: null,
          last_error: 'gave up',
          dedupe_key: null,
          created_at: 0,
          updated_at: 0,
        })
        .execute();
      try {
        assert.equal(statusOf(await run(), 'jobs.dead'), 'fail');
      } finally {
        await live.services.database.db.deleteFrom('jobs').where('id', '=', id).execute();
      }
    });
    test('a live webhook endpoint on plain http (written by an older version): endpoints.https fails', async () => {
      const id = newId('we');
      await live.services.database.db
        .insertInto('webhook_endpoints')
        .values({
          id,
          mode: 'live',
          url: 'http://shop.example/hooks',
          events_json: '[]',
          status: 'enabled',
          disabled_reason: null,
          created_at: 0,
          deleted_at: null,
        })
        .execute();
      try {
        assert.equal(statusOf(await run(), 'endpoints.https'), 'fail');
      } finally {
        await live.services.database.db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
      }
    });
    test('a key that expires next week: keys.expiry warns', async () => {
      const created = await live.services.keys.create({ mode: 'live', name: 'expiring' });
      await live.services.database.db
        .updateTable('api_keys')
        .set({ expires_at: Date.now() + 7 * 86_400_000 })
        .where('id', '=', created.id)
        .execute();
      try {
        assert.equal(statusOf(await run(), 'keys.expiry'), 'warn');
      } finally {
        await live.services.database.db.deleteFrom('api_keys').where('id', '=', created.id).execute();
      }
    });
    test('an installed package on the advisory list: deps.advisories fails', async () => {
      const file = join(work, 'advisories.json');
      writeFileSync(
        file,
        JSON.stringify({
          updated: 'test',
          advisories: [{ id: 'TEST-1', package: 'fastify', vulnerable: '>=5.0.0 <99.0.0', summary: 'test entry' }],
        }),
      );
      assert.equal(statusOf(await run({ advisoriesFile: file }), 'deps.advisories'), 'fail');
    });
  });
});
