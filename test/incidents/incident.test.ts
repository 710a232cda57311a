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
import { createReceiptKeyStore } from '../../src/receipts/receipt-keys.ts';
import { signReceipt } from '../../src/receipts/receipts.ts';
import { describeRotation } from '../../src/cli/incident.ts';
import { testDialects } from '../helpers/databases.ts';
import { startReceiver, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { enrolOperator, type TestOperator } from '../helpers/dashboard.ts';

for (const dialect of await testDialects()) {
  describe(`incident response on ${dialect.name}`, { skip: dialect.skip }, () => {
    let gw: TestGateway;
    let incidents: IncidentService;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    /** Subscribed to incident.opened only (an event type of the endpoint API's own list). */
    let openedOnly: Awaited<ReturnType<typeof startReceiver>>;
    let operator: TestOperator;
    let incidentId: string;
    const dir = mkdtempSync(join(tmpdir(), 'paywarden-incident-'));
    const startedAt = Date.now();

    before(async () => {
      gw = await startTestGateway(dialect);
      receiver = await startReceiver();
      const endpoint = await gw.api('POST', '/v1/webhook_endpoints', { url: receiver.url, events: ['*'] });
      assert.equal(endpoint.status, 201);
      openedOnly = await startReceiver();
      const narrow = await gw.api('POST', '/v1/webhook_endpoints', {
        url: openedOnly.url,
        events: ['incident.opened'],
      });
      assert.equal(narrow.status, 201, JSON.stringify(narrow.body));
      const family = await gw.api('POST', '/v1/webhook_endpoints', { url: openedOnly.url, events: ['incident.*'] });
      assert.equal(family.status, 201, JSON.stringify(family.body));
      assert.equal((await gw.api('DELETE', `/v1/webhook_endpoints/${family.body.id}`)).status, 200);
      const unknown = await gw.api('POST', '/v1/webhook_endpoints', { url: openedOnly.url, events: ['incident.nope'] });
      assert.equal(unknown.status, 422);
      operator = await enrolOperator(gw);
      const cipher = createFieldCipher(gw.services.config.masterKey);
      incidents = createIncidentService({
        db: gw.services.database.db,
        clock: gw.services.clock,
        queue: gw.services.queue,
        keys: gw.services.keys,
        cipher,
        receiptKeys: createReceiptKeyStore({ db: gw.services.database.db, cipher, clock: gw.services.clock }),
        actor: { actorType: 'cli', actorId: null },
      });
    });
    after(async () => {
      await receiver.close();
      await openedOnly.close();
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
      await openedOnly.waitFor(1);
      const delivered = JSON.parse(openedOnly.received[0]!.body) as { type: string; data: Record<string, unknown> };
      assert.equal(delivered.type, 'incident.opened');
      assert.equal(delivered.data.incident, incidentId);
      assert.equal(delivered.data.title, 'API key seen in a public repository');
    });

    test('rotate is one step: a failure part-way (at the receipt keys) leaves keys, secrets and sessions as they were', async () => {
      await gw.services.receipts.keys.signingKey('test');
      const db = gw.services.database.db;
      const snapshot = async () => ({
        keys: (await db.selectFrom('api_keys').select(['id', 'revoked_at']).orderBy('id').execute()).map((k) => [
          k.id,
          k.revoked_at,
        ]),
        secrets: (await db.selectFrom('endpoint_secrets').select(['id', 'expires_at']).orderBy('id').execute()).map(
          (e) => [e.id, e.expires_at],
        ),
        timeline: await kinds(),
      });
      const before = await snapshot();
      const cipher = createFieldCipher(gw.services.config.masterKey);
      const store = createReceiptKeyStore({ db, cipher, clock: gw.services.clock });
      const failing = createIncidentService({
        db,
        clock: gw.services.clock,
        queue: gw.services.queue,
        keys: gw.services.keys,
        cipher,
        receiptKeys: {
          ...store,
          rotateIn: async () => {
            throw new Error('injected: the receipt key store failed');
          },
        },
        actor: { actorType: 'cli', actorId: null },
      });
      await assert.rejects(failing.rotate(incidentId, { apiKeyOverlapMs: 3_600_000 }), /injected/);
      assert.deepEqual(await snapshot(), before, 'no replacement key, no secret, no step left behind');
      assert.equal((await operator.client.get('/dashboard')).status, 200, 'sessions not ended');
    });

    test('rotate: new keys work, old keys work for the overlap, secrets rotated, sessions ended', async () => {
      const before = await gw.api('GET', '/v1/payments');
      assert.equal(before.status, 200);
      assert.equal((await operator.client.get('/dashboard')).status, 200);
      // A receipt signed before the incident, by the test mode's key (live mode has no key yet).
      const receiptKey = await gw.services.receipts.keys.signingKey('test');
      const earlier = signReceipt({ object_type: 'payment', object_id: 'pay_before', livemode: false }, receiptKey);
      const rotated = await incidents.rotate(incidentId, { apiKeyOverlapMs: 3_600_000 });
      assert.ok(rotated.ok);
      // Receipt keys: test mode gets a new signing key; the earlier receipt still verifies by its key id.
      assert.equal(rotated.value.receiptKeys.length, 1);
      const [receiptRotation] = rotated.value.receiptKeys;
      assert.equal(receiptRotation!.mode, 'test');
      assert.equal(receiptRotation!.oldId, receiptKey.id);
      assert.equal((await gw.services.receipts.keys.signingKey('test')).id, receiptRotation!.newId);
      assert.deepEqual(await gw.services.receipts.verify(earlier), { ok: true, keyId: receiptKey.id });
      const later = signReceipt(
        { object_type: 'payment', object_id: 'pay_after', livemode: false },
        await gw.services.receipts.keys.signingKey('test'),
      );
      assert.deepEqual(await gw.services.receipts.verify(later), { ok: true, keyId: receiptRotation!.newId });
      const printed = describeRotation(rotated.value);
      assert.match(
        printed,
        new RegExp(`receipt keys: ${receiptRotation!.newId} \\(test\\) signs from now on, ${receiptKey.id}`),
      );
      assert.doesNotMatch(printed, /not present|none to rotate/);
      assert.match(describeRotation({ ...rotated.value, receiptKeys: [] }), /receipt keys: none to rotate/);
      assert.ok(
        (
          await gw.services.database.db
            .selectFrom('audit_log')
            .select('object_id')
            .where('action', '=', 'receipt_key.created')
            .execute()
        ).some((r) => r.object_id === receiptRotation!.newId),
      );
      assert.equal(rotated.value.apiKeys.length, 1);
      const [replacement] = rotated.value.apiKeys;
      // The old key (the test gateway's) still works during the overlap; the new one works too.
      assert.equal((await gw.api('GET', '/v1/payments')).status, 200);
      assert.equal(
        (await gw.api('GET', '/v1/payments', undefined, { authorization: `Bearer ${replacement!.key}` })).status,
        200,
      );
      // Endpoint secret: a new one, the old one expiring in 24 h.
      // Endpoint secrets (the two live endpoints; the deleted one is left alone): a new one each,
      // the old one expiring in 24 h.
      assert.equal(rotated.value.endpointSecrets.length, 2);
      const secrets = await gw.services.database.db
        .selectFrom('endpoint_secrets')
        .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'endpoint_secrets.endpoint_id')
        .where('webhook_endpoints.deleted_at', 'is', null)
        .select('expires_at')
        .execute();
      assert.equal(secrets.filter((s) => s.expires_at === null).length, 2);
      assert.equal(secrets.filter((s) => s.expires_at !== null).length, 2);
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
      // The endpoint subscribed to incident.opened only heard of nothing else.
      assert.deepEqual(
        openedOnly.received.map((r) => (JSON.parse(r.body) as { type: string }).type),
        ['incident.opened'],
      );
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
