import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError, loadConfig } from './config.ts';
import { formatCidr, type Cidr } from '../net/addresses.ts';

// Every directory a test makes goes when the file's tests end.
const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-config-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

test('embedded defaults: test mode, SQLite under ./data, loopback, generated secrets kept private', () => {
  const dir = tmp();
  const config = loadConfig({}, dir);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.equal(config.databaseUrl, join(dir, 'data', 'paywarden.sqlite'));
  assert.equal(config.liveEnabled, false);
  assert.equal(config.providers.flutterwave?.test.baseUrl, undefined);
  assert.equal(statSync(join(dir, 'data', 'master.key')).mode & 0o777, 0o600);
  // The same secrets on the next start, so stored keys and sealed secrets stay readable.
  assert.equal(loadConfig({}, dir).masterKey.reveal(), config.masterKey.reveal());
  assert.equal(statSync(join(dir, 'data', 'audit-signing.key')).mode & 0o777, 0o600);
  assert.equal(Buffer.from(config.auditSigningKey.reveal(), 'base64').length, 32);
  assert.equal(loadConfig({}, dir).auditSigningKey.reveal(), config.auditSigningKey.reveal());
});

test('secrets never print: the wrapper redacts in strings, JSON and inspection', () => {
  const config = loadConfig({}, tmp());
  const secret = config.providers.flutterwave?.test.credentials.secretKey?.reveal() ?? '';
  assert.ok(secret.length > 10);
  assert.ok(!JSON.stringify(config).includes(secret));
  assert.ok(!String(config.masterKey).includes(config.masterKey.reveal()));
  assert.ok(!inspect(config, { depth: 5 }).includes(secret));
});

test('*_FILE variants are read, with the trailing newline removed', () => {
  const dir = tmp();
  const file = join(dir, 'hash');
  writeFileSync(file, 'from-a-file-secret-hash\n');
  const config = loadConfig(
    {
      FLUTTERWAVE_TEST_SECRET_HASH_FILE: file,
      FLUTTERWAVE_TEST_SECRET_KEY: 'FLWSECK_TEST-x',
      FLUTTERWAVE_TEST_BASE_URL: 'http://127.0.0.1:1',
    },
    dir,
  );
  assert.equal(config.providers.flutterwave?.test.credentials.secretHash?.reveal(), 'from-a-file-secret-hash');
});

test('every problem is reported at once', () => {
  const error = captureConfigError({
    PAYWARDEN_PORT: 'eighty',
    PAYWARDEN_LOG_LEVEL: 'loud',
    PAYWARDEN_MASTER_KEY: 'short',
    PAYWARDEN_TLS_MIN_VERSION: 'TLSv1.0',
    PAYWARDEN_RECONCILE_SCHEDULE_SECONDS: '10,soon',
  });
  assert.equal(error.problems.length, 5, error.message);
  assert.match(error.message, /PAYWARDEN_PORT/);
  assert.match(error.message, /PAYWARDEN_LOG_LEVEL/);
  assert.match(error.message, /PAYWARDEN_MASTER_KEY/);
  assert.match(error.message, /TLSv1\.2 or TLSv1\.3/);
  assert.match(error.message, /RECONCILE_SCHEDULE/);
});

test('a variable and its _FILE twin together are refused', () => {
  const error = captureConfigError({ PAYWARDEN_MASTER_KEY: 'x', PAYWARDEN_MASTER_KEY_FILE: '/nonexistent' });
  assert.match(error.message, /both set/);
});

test('live mode refuses to start without live secrets, with test values, or without TLS', () => {
  const missing = captureConfigError({ PAYWARDEN_LIVE_ENABLED: 'true' });
  assert.match(missing.message, /PAYWARDEN_AUDIT_SIGNING_KEY .*is required in live mode/);
  assert.match(missing.message, /PAYWARDEN_MASTER_KEY/);
  assert.match(missing.message, /FLUTTERWAVE_LIVE_SECRET_KEY is required/);
  assert.match(missing.message, /FLUTTERWAVE_LIVE_SECRET_HASH is required/);
  assert.match(
    captureConfigError({ PAYWARDEN_LIVE_ENABLED: 'true', PAYWARDEN_LIVE_PROVIDERS: 'flutterwave,acme' }).message,
    /PAYWARDEN_LIVE_PROVIDERS names "acme"/,
  );
  assert.match(missing.message, /needs TLS/);

  const testValues = captureConfigError({
    PAYWARDEN_LIVE_ENABLED: 'true',
    PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
    PAYWARDEN_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
    FLUTTERWAVE_LIVE_SECRET_KEY: 'FLWSECK_TEST-abc-X',
    FLUTTERWAVE_LIVE_SECRET_HASH: 'example',
    PAYWARDEN_TRUSTED_PROXY: '127.0.0.1',
  });
  assert.match(testValues.message, /FLUTTERWAVE_LIVE_SECRET_KEY looks like a test key/);
  assert.match(testValues.message, /FLUTTERWAVE_LIVE_SECRET_HASH must be a random value/);
  assert.doesNotMatch(testValues.message, /needs TLS/);
});

test('live mode starts with live secrets behind a trusted TLS proxy', () => {
  const config = loadConfig(
    {
      PAYWARDEN_LIVE_ENABLED: 'true',
      PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
      PAYWARDEN_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      FLUTTERWAVE_LIVE_SECRET_KEY: `FLWSECK-${randomBytes(16).toString('hex')}-X`,
      FLUTTERWAVE_LIVE_SECRET_HASH: randomBytes(24).toString('hex'),
      PAYWARDEN_TRUSTED_PROXY: '127.0.0.1',
    },
    tmp(),
  );
  assert.equal(config.liveEnabled, true);
  assert.equal(config.providers.flutterwave?.live?.baseUrl, 'https://api.flutterwave.com');
});

test('TLS files must exist and come in pairs', () => {
  const dir = tmp();
  const cert = join(dir, 'cert.pem');
  writeFileSync(cert, 'x');
  assert.match(
    captureConfigError({ PAYWARDEN_TLS_CERT_FILE: cert }).message,
    /both PAYWARDEN_TLS_CERT_FILE and PAYWARDEN_TLS_KEY_FILE/,
  );
  assert.match(
    captureConfigError({ PAYWARDEN_TLS_CERT_FILE: cert, PAYWARDEN_TLS_KEY_FILE: join(dir, 'missing.pem') }).message,
    /does not exist/,
  );
  void readFileSync;
});

function captureConfigError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, tmp());
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

test('routing: a currency table from PAYWARDEN_ROUTING, validated', () => {
  const config = loadConfig({ PAYWARDEN_ROUTING: 'NGN:flutterwave, GHS:paystack' }, tmp());
  assert.deepEqual(config.routing, { NGN: 'flutterwave', GHS: 'paystack' });
  assert.match(
    captureConfigError({ PAYWARDEN_ROUTING: 'ngn:flutterwave' }).message,
    /PAYWARDEN_ROUTING entry "ngn:flutterwave"/,
  );
  assert.match(captureConfigError({ PAYWARDEN_ROUTING: 'NGN:acme' }).message, /PAYWARDEN_ROUTING entry "NGN:acme"/);
  assert.equal(loadConfig({}, tmp()).routing.NGN, 'flutterwave');
});

test('per-provider outbound budgets: catalogue defaults, overridable', () => {
  assert.deepEqual(loadConfig({}, tmp()).providers.flutterwave?.rateLimitPerMinute, { test: 600, live: 240 });
  assert.deepEqual(
    loadConfig({ PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE: '7' }, tmp()).providers.flutterwave?.rateLimitPerMinute,
    { test: 7, live: 240 },
  );
});

test('webhook source allowlists: the published list by default, a list, off, or a clear error', () => {
  const ranges = (list: readonly Cidr[] | undefined) => list?.map(formatCidr);
  assert.deepEqual(ranges(loadConfig({}, tmp()).providers.paystack?.webhookIpAllowlist), [
    '52.31.139.75/32',
    '52.49.173.169/32',
    '52.214.14.220/32',
  ]);
  assert.equal(
    loadConfig({}, tmp()).providers.flutterwave?.webhookIpAllowlist,
    undefined,
    'Flutterwave advises against IP allowlisting',
  );
  assert.deepEqual(
    ranges(
      loadConfig({ PAYSTACK_WEBHOOK_IP_ALLOWLIST: '198.51.100.7, 198.51.100.0/28' }, tmp()).providers.paystack
        ?.webhookIpAllowlist,
    ),
    ['198.51.100.7/32', '198.51.100.0/28'],
  );
  assert.equal(
    loadConfig({ PAYSTACK_WEBHOOK_IP_ALLOWLIST: 'off' }, tmp()).providers.paystack?.webhookIpAllowlist,
    undefined,
  );
  assert.match(
    captureConfigError({ PAYSTACK_WEBHOOK_IP_ALLOWLIST: 'paystack.co' }).message,
    /PAYSTACK_WEBHOOK_IP_ALLOWLIST: "paystack.co" is not an IP address/,
  );
});

test('dashboard timeouts can be shortened, never lengthened; networks are validated', () => {
  const shorter = loadConfig({
    PAYWARDEN_DATA_DIR: mkdtempSync(join(tmpdir(), 'pw-cfg-')),
    PAYWARDEN_DASHBOARD_IDLE_TIMEOUT_MINUTES: '5',
    PAYWARDEN_DASHBOARD_SESSION_MAX_MINUTES: '120',
  });
  assert.equal(shorter.dashboardIdleTimeoutMinutes, 5);
  assert.equal(shorter.dashboardSessionMaxMinutes, 120);
  const error = captureConfigError({
    PAYWARDEN_DASHBOARD_IDLE_TIMEOUT_MINUTES: '30',
    PAYWARDEN_DASHBOARD_SESSION_MAX_MINUTES: '1440',
    PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS: '10.0.0.0/8,office',
  });
  assert.match(error.message, /PAYWARDEN_DASHBOARD_IDLE_TIMEOUT_MINUTES/);
  assert.match(error.message, /PAYWARDEN_DASHBOARD_SESSION_MAX_MINUTES/);
  assert.match(error.message, /PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS: "office" is not an IP address or CIDR range/);
});

test('trusted proxies and dashboard networks go through the one address parser', () => {
  const config = loadConfig(
    { PAYWARDEN_TRUSTED_PROXY: '10.0.0.0/8, ::ffff:192.0.2.7, fd00::1', PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS: '::1' },
    tmp(),
  );
  assert.deepEqual(config.trustedProxy?.map(formatCidr), ['10.0.0.0/8', '192.0.2.7/32', 'fd00::1/128']);
  assert.deepEqual(config.dashboardAllowedNetworks?.map(formatCidr), ['::1/128']);
  assert.match(
    captureConfigError({ PAYWARDEN_TRUSTED_PROXY: 'loopback' }).message,
    /PAYWARDEN_TRUSTED_PROXY: "loopback" is not an IP address or CIDR range/,
  );
});

test('payout knobs: the not-found grace and check schedule are whole seconds, or refused', () => {
  const error = captureConfigError({
    PAYWARDEN_PAYOUT_NOT_FOUND_GRACE_SECONDS: '0.5',
    PAYWARDEN_PAYOUT_CHECK_SCHEDULE_SECONDS: '30,later',
    PAYWARDEN_SWEEP_INTERVAL_SECONDS: '0',
  });
  assert.match(error.message, /PAYWARDEN_PAYOUT_NOT_FOUND_GRACE_SECONDS/);
  assert.match(error.message, /PAYWARDEN_PAYOUT_CHECK_SCHEDULE_SECONDS/);
  assert.match(error.message, /PAYWARDEN_SWEEP_INTERVAL_SECONDS/);
});

test('publishable-key origins: exact https origins (http only for localhost in test mode), none by default', () => {
  assert.deepEqual(loadConfig({}, tmp()).publishableKeyOrigins, []);
  assert.deepEqual(
    loadConfig({ PAYWARDEN_PUBLISHABLE_KEY_ORIGINS: 'https://shop.example, http://localhost:3000' }, tmp())
      .publishableKeyOrigins,
    ['https://shop.example', 'http://localhost:3000'],
  );
  for (const bad of ['https://shop.example/', 'https://shop.example/pay', 'http://shop.example', 'shop.example', '*'])
    assert.throws(
      () => loadConfig({ PAYWARDEN_PUBLISHABLE_KEY_ORIGINS: bad }, tmp()),
      (error: unknown) => error instanceof ConfigError && /PAYWARDEN_PUBLISHABLE_KEY_ORIGINS/.test(error.message),
      bad,
    );
});

test('with TLS configured, the default public URL is https', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'cert.pem'), 'not checked here');
  writeFileSync(join(dir, 'key.pem'), 'not checked here');
  const config = loadConfig(
    { PAYWARDEN_TLS_CERT_FILE: join(dir, 'cert.pem'), PAYWARDEN_TLS_KEY_FILE: join(dir, 'key.pem') },
    dir,
  );
  assert.equal(config.publicUrl, 'https://127.0.0.1:8080');
  assert.equal(loadConfig({}, tmp()).publicUrl, 'http://127.0.0.1:8080');
});

test('during a master-key rotation the previous key comes from PAYWARDEN_MASTER_KEY_PREVIOUS or its _FILE, checked like the key', () => {
  const dir = tmp();
  const previous = randomBytes(32).toString('base64');
  const file = join(dir, 'previous.key');
  writeFileSync(file, `${previous}\n`);
  const config = loadConfig(
    { PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'), PAYWARDEN_MASTER_KEY_PREVIOUS_FILE: file },
    dir,
  );
  assert.deepEqual(
    config.previousMasterKeys.map((k) => k.reveal()),
    [previous],
  );
  assert.deepEqual(loadConfig({}, tmp()).previousMasterKeys, []);
  const error = captureConfigError({ PAYWARDEN_MASTER_KEY_PREVIOUS: 'short' });
  assert.match(error.message, /PAYWARDEN_MASTER_KEY_PREVIOUS must be at least 32 random bytes/);
  assert.equal(
    loadConfig({ PAYWARDEN_ERASURE_JOURNAL: 'journal/erasures.jsonl' }, dir).erasureJournalPath,
    join(dir, 'journal/erasures.jsonl'),
  );
});
