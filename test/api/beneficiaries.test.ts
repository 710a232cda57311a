// PAY-3: bank lists (cached), bank codes checked before any provider call, account resolution
// (cached briefly), Kenyan M-Pesa as Flutterwave documents it, and the bad inputs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { manualClock } from '../../src/clock.ts';

for (const dialect of await testDialects()) {
  describe(`banks and account resolution on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    const clock = manualClock(Date.now());
    before(async () => {
      gw = await startTestGateway(dialect, { clock, env: { PAYWARDEN_LOOKUP_RATE_LIMIT_PER_MINUTE: '40' } });
    });
    after(async () => gw.close());

    test('GET /v1/banks lists the provider banks and caches them for a day', async () => {
      const first = await gw.api('GET', '/v1/banks?country=NG');
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(first.body.provider, 'flutterwave');
      assert.ok(
        first.body.data.some((b: { code: string; name: string }) => b.code === '044' && b.name === 'Access Bank'),
      );
      // While cached, a provider outage does not matter.
      await gw.sim('POST', '/_sim/faults', { fault: 'http_500', times: 0 });
      assert.equal((await gw.api('GET', '/v1/banks?country=NG')).status, 200);
      clock.advance(24 * 3_600_000 + 1);
      const expired = await gw.api('GET', '/v1/banks?country=NG');
      assert.equal(expired.status, 502, 'after a day the list is fetched again');
      assert.equal(expired.body.error.code, 'provider_unavailable');
      await gw.sim('DELETE', '/_sim/faults');
    });

    test('resolve: a bank account answers the holder name; cached briefly', async () => {
      const res = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0690000032',
        bank_code: '044',
        country: 'NG',
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.account_number, '0690000032');
      assert.match(res.body.account_name, /^[A-Z]+ [A-Z]+$/);
      assert.equal(res.body.bank_name, 'Access Bank');
      await gw.sim('POST', '/_sim/faults', { fault: 'http_500', times: 0 });
      const cached = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0690000032',
        bank_code: '044',
        country: 'NG',
      });
      assert.equal(cached.status, 200);
      assert.equal(cached.body.account_name, res.body.account_name);
      await gw.sim('DELETE', '/_sim/faults');
    });

    test('resolve: Kenyan M-Pesa (MPS, MOBILEMONEY, KE) answers the number without its plus sign', async () => {
      for (const type of ['mobile_money', 'MOBILEMONEY']) {
        const res = await gw.api('POST', '/v1/accounts/resolve', {
          account_number: '+254706000006',
          bank_code: 'MPS',
          country: 'KE',
          type,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.account_number, '254706000006');
        assert.equal(res.body.type, 'mobile_money');
      }
    });

    test('an unknown bank code is refused before the provider is asked', async () => {
      assert.equal((await gw.api('GET', '/v1/banks?country=NG')).status, 200);
      // With the provider failing every call, only a check against the cached list can answer.
      await gw.sim('POST', '/_sim/faults', { fault: 'http_500', times: 0 });
      const res = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0690000032',
        bank_code: '999',
        country: 'NG',
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'parameter_invalid');
      assert.equal(res.body.error.param, 'bank_code');
      await gw.sim('DELETE', '/_sim/faults');
    });

    test('an account the provider cannot resolve is a clear 422', async () => {
      const res = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0690000000',
        bank_code: '044',
        country: 'NG',
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'account_not_resolved');
      assert.equal(res.body.error.param, 'account_number');
    });

    const bad: Array<[string, string, unknown, string]> = [
      ['lowercase country', 'GET /v1/banks?country=ng', undefined, 'country'],
      ['country nobody serves', 'GET /v1/banks?country=FR', undefined, 'country'],
      ['unknown provider', 'GET /v1/banks?country=NG&provider=acme', undefined, 'provider'],
      [
        'letters in the account number',
        'POST /v1/accounts/resolve',
        { account_number: '06900abc32', bank_code: '044', country: 'NG' },
        'account_number',
      ],
      ['missing bank code', 'POST /v1/accounts/resolve', { account_number: '0690000032', country: 'NG' }, 'bank_code'],
      [
        'unknown field',
        'POST /v1/accounts/resolve',
        { account_number: '0690000032', bank_code: '044', country: 'NG', bvn: '1' },
        'bvn',
      ],
      [
        'unknown type',
        'POST /v1/accounts/resolve',
        { account_number: '0690000032', bank_code: '044', country: 'NG', type: 'card' },
        'type',
      ],
    ];
    for (const [name, route, body, param] of bad) {
      test(`refused: ${name}`, async () => {
        const [method, path] = route.split(' ') as [string, string];
        const res = await gw.api(method, path, body);
        assert.equal(res.status, 422, JSON.stringify(res.body));
        assert.equal(res.body.error.param, param);
      });
    }

    test('provider=paystack: its own bank list and resolution (GET /bank, GET /bank/resolve)', async () => {
      const banks = await gw.api('GET', '/v1/banks?country=NG&provider=paystack');
      assert.equal(banks.status, 200, JSON.stringify(banks.body));
      assert.equal(banks.body.provider, 'paystack');
      assert.ok(banks.body.data.some((b: { code: string }) => b.code === '063'));
      const resolved = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0022728151',
        bank_code: '063',
        country: 'NG',
        provider: 'paystack',
      });
      assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
      assert.equal(resolved.body.provider, 'paystack');
      assert.match(resolved.body.account_name, /^[A-Z]+ [A-Z]+$/);
      const unknown = await gw.api('POST', '/v1/accounts/resolve', {
        account_number: '0022720000',
        bank_code: '063',
        country: 'NG',
        provider: 'paystack',
      });
      assert.equal(unknown.body.error.code, 'account_not_resolved');
      const ghana = await gw.api('GET', '/v1/banks?country=GH', undefined);
      assert.equal(ghana.body.provider, 'flutterwave', 'without a provider, the first that serves the country');
    });

    test('look-ups have their own per-key limit', async () => {
      let limited: { status: number; body: any } | undefined;
      for (let i = 0; i < 60 && limited === undefined; i += 1) {
        const res = await gw.api('GET', '/v1/banks?country=KE');
        if (res.status === 429) limited = res;
      }
      assert.ok(limited, 'the look-up limit acted');
      assert.equal(limited.body.error.code, 'rate_limited');
    });
  });
}
