// MON-3 on both databases, against a running gateway: open an incident (the merchant is told),
// rotate everything that may be compromised in one step (old API keys keep working for the
// overlap, endpoint secrets get 24 h, every operator session ends), export a window of the audit
// log and webhook records, record findings and measures, close. Every step is in the timeline and
// the audit log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFieldCipher } from '../../src/crypto/encryption.ts';
import { createIncidentService, type IncidentService } from '../../src/incidents/incident-service.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';

for (const dialect of await testDialects()) {
  describe(`incident response on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let incidents: IncidentService;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    let operator: TestOperator;
    let incidentId: string;
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-incident-'));
    const startedAt = Date.now();

    before(async () => {
      gw = await startTestGateway(dialect);
      receiver = await startReceiver();
      const endpoint = await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['*'] });
      assert.equal(endpoint.status, 201);
      operator = await enrolOperator(gw);
      incidents = createIncidentService({
        db: gw.services.database.db,
        clock: gw.services.clock,
        queue: gw.services.queue,
        keys: gw.services.keys,
        cipher: createFieldCipher(gw.services.config.masterKey),
        actor: { actorType: 'cli', actorId: null },
      });
    });
    after(async () => {
      await receiver.close();
      await gw.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const eventTypes = () => receiver.received.map((r) => (JSON.parse(r.body) as { type: string }).type);
    const kinds = async () => (await incidents.timeline(incidentId)).map((r) => r.kind);

    test('open: recorded, audited, and the merchant gets incident.opened', async () => {
      incidentId = await incidents.open('API key seen in a public repository');
      await gw.services.worker.drain();
      await receiver.waitFor(1);
      assert.deepEqual(eventTypes(), ['incident.opened']);
      assert.deepEqual(await kinds(), ['opened']);
    });

    test('rotate: new keys work, old keys work for the overlap, secrets rotated, sessions ended', async () => {
      const before = await gw.api('GET', '/v1/payments');
      assert.equal(before.status, 200);
      assert.equal((await operator.client.get('/dashboard')).status, 200);
      const rotated = await incidents.rotate(incidentId, { apiKeyOverlapMs: 3_600_000 });
      assert.ok(rotated.ok);
      assert.equal(rotated.value.apiKeys.length, 1);
      const [replacement] = rotated.value.apiKeys;
      // The old key (the test gateway's) still works during the overlap; the new one works too.
      assert.equal((await gw.api('GET', '/v1/payments')).status, 200);
      assert.equal(
        (await gw.api('GET', '/v1/payments', undefined, { authorization: `Bearer ${replacement!.key}` })).status,
        200,
      );
      // Endpoint secret: a new one, the old one expiring in 24 h.
      assert.equal(rotated.value.endpointSecrets.length, 1);
      const secrets = await gw.services.database.db.selectFrom('endpoint_secrets').select('expires_at').execute();
      assert.equal(secrets.filter((s) => s.expires_at === null).length, 1);
      assert.equal(secrets.filter((s) => s.expires_at !== null).length, 1);
      // The operator was signed out.
      assert.ok(rotated.value.sessionsEnded >= 1);
      const page = await operator.client.get('/dashboard');
      assert.equal(page.status, 303);
      assert.match(page.location ?? '', /\/dashboard\/login/);
      await gw.services.worker.drain();
      await receiver.waitFor(2);
      assert.ok(eventTypes().includes('incident.credentials_rotated'));
      assert.deepEqual(await kinds(), ['opened', 'rotated']);
    });

    test('rotate again with no overlap: the previous keys stop at once', async () => {
      const rotated = await incidents.rotate(incidentId, { apiKeyOverlapMs: 0 });
      assert.ok(rotated.ok);
      assert.equal((await gw.api('GET', '/v1/payments')).status, 401);
      // Every key that was still working was replaced, the previous replacement included.
      assert.equal(rotated.value.apiKeys.length, 2);
      assert.equal(
        (
          await gw.api('GET', '/v1/payments', undefined, {
            authorization: `Bearer ${rotated.value.apiKeys.at(-1)!.key}`,
          })
        ).status,
        200,
      );
    });

    test('export: the window of audit rows and webhooks, its hash recorded', async () => {
      const file = join(dir, 'export.json');
      const exported = await incidents.export(incidentId, startedAt - 60_000, Date.now() + 1000, file);
      assert.ok(exported.ok);
      const text = readFileSync(file, 'utf8');
      assert.equal(createHash('sha256').update(text).digest('hex'), exported.value.sha256);
      const body = JSON.parse(text) as { audit_log: Array<{ action: string }>; deliveries: unknown[] };
      assert.ok(body.audit_log.some((r) => r.action === 'incident.rotated'));
      assert.ok(body.audit_log.some((r) => r.action === 'api_key.create'));
      assert.ok(body.deliveries.length >= 2);
      const row = (await incidents.timeline(incidentId)).find((r) => r.kind === 'exported');
      assert.equal(JSON.parse(row!.details_json).sha256, exported.value.sha256);
    });

    test('close: refused until a finding and a measure are recorded; then the merchant is told', async () => {
      assert.equal((await incidents.close(incidentId)).ok, false);
      assert.ok((await incidents.record(incidentId, 'finding', 'the key was committed to a public fork')).ok);
      assert.equal((await incidents.close(incidentId)).ok, false);
      assert.ok((await incidents.record(incidentId, 'measure', 'secret scanning on every push')).ok);
      assert.ok((await incidents.close(incidentId)).ok);
      assert.equal((await incidents.record(incidentId, 'note', 'too late')).ok, false);
      await gw.services.worker.drain();
      await receiver.waitFor(4);
      assert.ok(eventTypes().includes('incident.closed'));
      assert.deepEqual(await kinds(), ['opened', 'rotated', 'rotated', 'exported', 'finding', 'measure', 'closed']);
      const audited = await gw.services.database.db
        .selectFrom('audit_log')
        .select('action')
        .where('object_id', '=', incidentId)
        .execute();
      assert.equal(audited.length, 7);
    });
  });
}
