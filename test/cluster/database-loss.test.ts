// PostgreSQL going away under a running gateway, without stopping the PostgreSQL other tests use:
// the gateway reaches it through a TCP proxy of this test's own, which is cut (every connection
// closed, new ones refused, as in a restart) and restored; and its backends are terminated with
// pg_terminate_backend. While the database is away requests answer 503 with Retry-After (never
// 500, never a hang); afterwards the pool reconnects and every acknowledged webhook is stored once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { testDialects } from '../helpers/databases.ts';
import { POSTGRES_URL } from '../helpers/services.ts';
import { sleep, startTcpProxy, throughProxy, waitFor } from './processes.ts';
import { startFaultGateway, type FaultGateway } from './gateway-in-process.ts';

const postgres = (await testDialects()).find((d) => d.name === 'postgres')!;

describe('PostgreSQL connection loss', { skip: postgres.skip }, () => {
  let gateway: FaultGateway;
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let database: Awaited<ReturnType<typeof postgres.create>>;
  let direct: pg.Client;
  before(async () => {
    database = await postgres.create();
    proxy = await startTcpProxy(Number(new URL(POSTGRES_URL).port || 5432));
    const url = new URL(throughProxy(database.url, proxy.port));
    url.searchParams.set('application_name', 'paywarden-loss-test');
    // Jobs whose claim was committed but not answered run again once their lease lapses.
    gateway = await startFaultGateway({ PAYWARDEN_DATABASE_URL: url.toString(), PAYWARDEN_JOB_LEASE_SECONDS: '2' });
    direct = new pg.Client({ connectionString: database.url });
    await direct.connect();
  });
  after(async () => {
    await gateway?.close();
    await proxy?.close();
    await direct?.end();
    await database?.cleanup();
  });

  const storedOnce = async (txIds: Iterable<number>) => {
    const { rows } = await direct.query<{ dedupe_key: string; n: string }>(
      'select dedupe_key, count(*) as n from provider_webhooks group by dedupe_key',
    );
    const counts = new Map(rows.map((r) => [r.dedupe_key, Number(r.n)]));
    for (const tx of txIds)
      assert.equal(counts.get(`flutterwave:${tx}:charge.completed:successful`), 1, `webhook ${tx} stored once`);
  };

  test('cut and restored: 503 with Retry-After meanwhile, then accepted again, every acknowledged webhook stored once', async () => {
    const acknowledged = new Set<number>();
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    let code: string | undefined;
    let next = 1_000;
    let sending = true;
    // Four senders that behave like a provider: each webhook is sent until it gets a 200.
    const senders = Array.from({ length: 4 }, async () => {
      while (sending) {
        const tx = next++;
        for (;;) {
          const res = await gateway.sendWebhook(tx);
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 200) {
            acknowledged.add(tx);
            await res.body?.cancel();
            break;
          }
          if (res.status === 503) {
            retryAfter = res.headers.get('retry-after');
            code = ((await res.json()) as { error: { code: string } }).error.code;
          } else await res.body?.cancel();
          await sleep(50);
        }
      }
    });
    await waitFor('traffic', async () => acknowledged.size >= 20);
    proxy.cut();
    await waitFor('503 answers while the database is away', async () => (statuses.get(503) ?? 0) >= 4);
    const ready = await fetch(`${gateway.url}/readyz`);
    assert.equal(ready.status, 503);
    const payment = await gateway.createPayment();
    assert.equal(payment.status, 503);
    assert.equal(payment.headers.get('retry-after'), '5');
    await sleep(500);
    proxy.restore();
    const atRestore = acknowledged.size;
    await waitFor('webhooks accepted again', async () => acknowledged.size >= atRestore + 20);
    sending = false;
    await Promise.all(senders);

    assert.equal(retryAfter, '5');
    assert.equal(code, 'database_unavailable');
    assert.equal(statuses.get(500) ?? 0, 0, `no 500s: ${JSON.stringify([...statuses])}`);
    assert.equal((await fetch(`${gateway.url}/readyz`)).status, 200);
    assert.equal((await gateway.createPayment()).status, 201);
    await storedOnce(acknowledged);
    // The jobs of acknowledged webhooks were committed with them and get processed.
    await waitFor('the backlog to drain', async () => {
      const { rows } = await direct.query("select count(*) as n from jobs where status in ('queued', 'running')");
      return Number(rows[0].n) === 0;
    });
  });

  test('backends terminated by PostgreSQL (pg_terminate_backend): the process survives and the pool reconnects', async () => {
    assert.equal((await gateway.sendWebhook(9_000)).status, 200);
    const { rows } = await direct.query(
      "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'paywarden-loss-test'",
    );
    assert.ok(rows.length >= 1, 'the gateway had connections to terminate');
    await sleep(100);
    const after: number[] = [];
    for (let tx = 9_001; tx <= 9_010; tx += 1) after.push((await gateway.sendWebhook(tx)).status);
    // A request on a connection that died in its hands answers 503; the rest are accepted.
    assert.ok(
      after.every((s) => s === 200 || s === 503),
      after.join(','),
    );
    assert.ok(
      after.slice(-5).every((s) => s === 200),
      after.join(','),
    );
    await storedOnce([9_000, ...[9_006, 9_007, 9_008, 9_009, 9_010]]);
  });
});
