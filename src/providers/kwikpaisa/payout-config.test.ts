// KwikPaisa's payout credentials are optional: live mode without them is no error and KwikPaisa
// then collects without paying out; test mode generates them for the embedded simulator, which is
// started with the same wallet id the adapter sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { systemClock } from '../../clock.ts';
import { loadConfig } from '../../config/config.ts';
import { createOutboundHttp } from '../../http/outbound.ts';
import { createLogger } from '../../log.ts';
import { PROVIDER_FACTORIES } from '../factories.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'paywarden-kwik-config-'));
const liveEnv = {
  PAYWARDEN_LIVE_ENABLED: 'true',
  PAYWARDEN_LIVE_PROVIDERS: 'kwikpaisa',
  PAYWARDEN_MASTER_KEY: randomBytes(32).toString('base64'),
  PAYWARDEN_AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
  PAYWARDEN_TRUSTED_PROXY: '127.0.0.1',
  KWIKPAISA_LIVE_API_KEY: `pk_live_${randomBytes(8).toString('hex')}`,
  KWIKPAISA_LIVE_SECRET_KEY: randomBytes(24).toString('hex'),
};
const http = createOutboundHttp({
  provider: 'kwikpaisa',
  limiter: undefined,
  clock: systemClock,
  logger: createLogger('silent'),
});
const build = (credentials: Parameters<(typeof PROVIDER_FACTORIES)['kwikpaisa']['createProvider']>[0]['credentials']) =>
  PROVIDER_FACTORIES.kwikpaisa?.createProvider({
    baseUrl: 'https://api.kwikpaisa.com',
    credentials,
    http,
    clock: systemClock,
  });

test('live mode: no wallet id and mobile is no error, and KwikPaisa does not pay out', () => {
  const config = loadConfig(liveEnv, tmp());
  const live = config.providers.kwikpaisa?.live;
  assert.ok(live);
  assert.equal(live.credentials.walletId, undefined);
  assert.equal(build(live.credentials)?.payouts, undefined);
});

test('live mode: with both, KwikPaisa pays out; a test-looking wallet id or a bad mobile is refused', () => {
  const config = loadConfig(
    { ...liveEnv, KWIKPAISA_LIVE_WALLET_ID: 'kwx_7731002', KWIKPAISA_LIVE_PAYOUT_MOBILE: '+919876543210' },
    tmp(),
  );
  const live = config.providers.kwikpaisa?.live;
  assert.ok(live);
  assert.equal(build(live.credentials)?.payouts?.name, 'kwikpaisa');
  assert.throws(
    () =>
      loadConfig(
        { ...liveEnv, KWIKPAISA_LIVE_WALLET_ID: 'kwx_test_1', KWIKPAISA_LIVE_PAYOUT_MOBILE: 'call me' },
        tmp(),
      ),
    /KWIKPAISA_LIVE_WALLET_ID looks like a test wallet id[\s\S]*KWIKPAISA_LIVE_PAYOUT_MOBILE must be a phone number/,
  );
});

test('test mode: generated for the embedded simulator, which takes the same wallet id', async () => {
  const config = loadConfig({}, tmp());
  const testMode = config.providers.kwikpaisa?.test;
  assert.ok(testMode?.credentials.walletId);
  const provider = build(testMode.credentials);
  assert.ok(provider?.payouts);
  const sim = await PROVIDER_FACTORIES.kwikpaisa?.startSimulator({
    credentials: testMode.credentials,
    webhookUrl: undefined,
    port: 0,
  });
  assert.ok(sim);
  try {
    const adapter = PROVIDER_FACTORIES.kwikpaisa?.createProvider({
      baseUrl: sim.url,
      credentials: testMode.credentials,
      http,
      clock: systemClock,
    }).payouts;
    const balances = await adapter?.getBalances();
    assert.equal(balances?.kind, 'ok', 'the wallet id the adapter sends is the simulator’s');
  } finally {
    await sim.close();
  }
  // A real sandbox (TEST_BASE_URL) without them: payouts stay off there.
  const sandbox = loadConfig(
    {
      KWIKPAISA_TEST_BASE_URL: 'https://sandbox.kwikpaisa.com',
      KWIKPAISA_TEST_API_KEY: 'pk_test_abc',
      KWIKPAISA_TEST_SECRET_KEY: 'sk_test_abc',
    },
    tmp(),
  );
  assert.equal(sandbox.providers.kwikpaisa?.test.credentials.walletId, undefined);
});
