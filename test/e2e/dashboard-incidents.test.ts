// MON-3 on the dashboard, over HTTP on both databases: the incident page runs the same service as
// `paywarden incident` for the signed-in operator; owners and admins only, every change behind a
// fresh password, every step in the timeline and the audit log under the operator's id.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { manualClock } from '../../src/clock.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { enrolOperator, signIn, type TestOperator } from '../helpers/dashboard.ts';

for (const dialect of await testDialects()) {
  describe(`the incident page on ${dialect.name}`, { skip: dialect.skip }, () => {
    const clock = manualClock(Date.now());
    let gw: TestGateway;
    let owner: TestOperator;
    let incidentId: string;
    /** The owner's dashboard client; a new one after each sign-in. */
    let client: TestOperator['client'];
    before(async () => {
      gw = await startTestGateway(dialect, { clock });
      owner = await enrolOperator(gw, { role: 'owner' });
      client = owner.client;
    });
    after(async () => gw?.close());

    const timelineKinds = async () =>
      (await gw.services.incidentsFor({ actorType: 'system', actorId: null }).timeline(incidentId)).map((r) => r.kind);

    test('developers, finance and viewers neither see nor use it; admins do, behind a fresh password', async () => {
      for (const role of ['developer', 'finance', 'viewer'] as const) {
        const op = await enrolOperator(gw, { role });
        const home = await op.client.get('/dashboard/settings');
        assert.ok(!home.html.includes('href="/dashboard/incidents"'), `${role}: no link`);
        assert.equal((await op.client.get('/dashboard/incidents')).status, 403, role);
        assert.equal((await op.client.post('/dashboard/incidents', { title: 'not mine to open' })).status, 403, role);
      }
      const admin = await enrolOperator(gw, { role: 'admin' });
      const list = await admin.client.get('/dashboard/incidents');
      assert.equal(list.status, 200);
      assert.ok(list.html.includes('href="/dashboard/incidents"'), 'the nav link');
      clock.advance(6 * 60_000);
      const stale = await admin.client.post('/dashboard/incidents', { title: 'a stale password' });
      assert.equal(stale.status, 403);
      assert.match(stale.html, /Confirm your password/);
      assert.equal((await gw.services.incidentsFor({ actorType: 'system', actorId: null }).list()).length, 0);
    });

    test('open: from the form, recorded and audited as the operator; free text under the one rule', async () => {
      clock.advance(30_000);
      client = await signIn(gw, owner, clock.nowMs());
      const refused = await client.post('/dashboard/incidents', { title: 'key \u202Eleaked' });
      assert.equal(refused.status, 400);
      assert.match(refused.html, /title contains U\+202E/);
      const opened = await client.post('/dashboard/incidents', { title: 'API key seen in a public repository' });
      assert.equal(opened.status, 303, opened.html.slice(0, 300));
      incidentId = /\/dashboard\/incidents\/(inc_[0-9A-Za-z]{22})$/.exec(opened.location ?? '')![1]!;
      const page = await client.get(`/dashboard/incidents/${incidentId}`);
      assert.equal(page.status, 200);
      assert.match(page.html, /id="incident-status">open</);
      assert.match(page.html, /class="step-opened"/);
      const audit = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['action', 'actor_type', 'actor_id'])
        .where('object_id', '=', incidentId)
        .execute();
      assert.deepEqual(audit, [{ action: 'incident.opened', actor_type: 'operator', actor_id: owner.id }]);
      assert.equal((await client.get('/dashboard/incidents/inc_0000000000000000000000')).status, 404);
    });

    test('close is refused until a finding and a measure are recorded', async () => {
      const early = await client.post(`/dashboard/incidents/${incidentId}/close`);
      assert.equal(early.status, 409);
      assert.match(early.html, /at least one finding and one preventive measure/);
      for (const [kind, text] of [
        ['finding', 'the key was committed to a public fork'],
        ['measure', 'secret scanning on every push'],
      ] as const)
        assert.equal((await client.post(`/dashboard/incidents/${incidentId}/notes`, { kind, text })).status, 303);
      assert.deepEqual(await timelineKinds(), ['opened', 'finding', 'measure']);
    });

    test('export: the window as a JSON download, its SHA-256 in the timeline', async () => {
      const from = new Date(clock.nowMs() - 3_600_000).toISOString().slice(0, 16);
      const to = new Date(clock.nowMs() + 3_600_000).toISOString().slice(0, 16);
      const backwards = await client.post(`/dashboard/incidents/${incidentId}/export`, { from: to, to: from });
      assert.equal(backwards.status, 409);
      const exported = await client.post(`/dashboard/incidents/${incidentId}/export`, { from, to });
      assert.equal(exported.status, 200);
      assert.match(exported.headers.get('content-disposition') ?? '', /^attachment; filename="inc_/);
      const body = JSON.parse(exported.html) as { audit_log: Array<{ action: string }> };
      assert.ok(body.audit_log.some((r) => r.action === 'incident.opened'));
      const sha256 = createHash('sha256').update(exported.html).digest('hex');
      const row = (await gw.services.incidentsFor({ actorType: 'system', actorId: null }).timeline(incidentId)).find(
        (r) => r.kind === 'exported',
      );
      assert.equal(JSON.parse(row!.details_json).sha256, sha256);
    });

    test('rotate: the new secrets once, every session ended (the operator signs in again), old key in overlap', async () => {
      const rotated = await client.post(`/dashboard/incidents/${incidentId}/rotate`, { key_overlap_hours: '2' });
      assert.equal(rotated.status, 200, rotated.html.slice(0, 400));
      const newKey = /<code>(sk_test_[0-9A-Za-z_]+)<\/code>/.exec(rotated.html)?.[1];
      assert.ok(newKey !== undefined, 'the new key is shown');
      assert.match(rotated.html, /Every operator session has ended/);
      const next = await client.get(`/dashboard/incidents/${incidentId}`);
      assert.equal(next.status, 303);
      assert.match(next.location ?? '', /\/dashboard\/login/);
      assert.equal((await gw.api('GET', '/v1/payments')).status, 200, 'the old key, during the overlap');
      assert.equal(
        (await gw.api('GET', '/v1/payments', undefined, { authorization: `Bearer ${newKey}` })).status,
        200,
        'the new key',
      );
    });

    test('close: after signing in again; the merchant-facing status and the audit trail', async () => {
      clock.advance(30_000);
      client = await signIn(gw, owner, clock.nowMs());
      const closed = await client.post(`/dashboard/incidents/${incidentId}/close`);
      assert.equal(closed.status, 303);
      const page = await client.get(`/dashboard/incidents/${incidentId}`);
      assert.match(page.html, /id="incident-status">closed</);
      assert.ok(!page.html.includes('id="incident-rotate"'), 'no more forms');
      assert.deepEqual(await timelineKinds(), ['opened', 'finding', 'measure', 'exported', 'rotated', 'closed']);
      const audit = await gw.services.database.db
        .selectFrom('audit_log')
        .select(['action', 'actor_id'])
        .where('object_id', '=', incidentId)
        .orderBy('position')
        .execute();
      assert.equal(audit.length, 6);
      assert.ok(audit.every((r) => r.actor_id === owner.id));
    });
  });
}
