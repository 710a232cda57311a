// The audit writer: request meta from the dashboard's async context, explicit values winning, and
// an oversized user agent (a header anyone can send) cut to a bounded length, on both databases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../clock.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';
import { withRequestMeta, writeAudit } from './audit.ts';

for (const dialect of await testDialects()) {
  describe(`audit rows on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());
    const clock = manualClock();
    const rowFor = (objectId: string) =>
      database.db.selectFrom('audit_log').selectAll().where('object_id', '=', objectId).executeTakeFirstOrThrow();

    test('request meta fills the row; an explicit value wins; a huge user agent is cut to 512 characters', async () => {
      const entry = {
        mode: null,
        actorType: 'operator' as const,
        actorId: 'op_x',
        action: 'test.done',
        objectType: 'test',
      };
      await withRequestMeta({ requestId: 'req_meta', ip: '192.0.2.7', userAgent: 'U'.repeat(10_000) }, () =>
        writeAudit(database.db, clock, { ...entry, objectId: 'obj_meta' }),
      );
      const fromMeta = await rowFor('obj_meta');
      assert.equal(fromMeta.request_id, 'req_meta');
      assert.equal(fromMeta.ip, '192.0.2.7');
      assert.equal(fromMeta.user_agent, 'U'.repeat(512));
      await withRequestMeta({ requestId: 'req_meta', ip: '192.0.2.7', userAgent: 'meta' }, () =>
        writeAudit(database.db, clock, {
          ...entry,
          objectId: 'obj_explicit',
          ip: '198.51.100.1',
          userAgent: 'explicit',
        }),
      );
      const explicit = await rowFor('obj_explicit');
      assert.equal(explicit.ip, '198.51.100.1');
      assert.equal(explicit.user_agent, 'explicit');
      await writeAudit(database.db, clock, { ...entry, objectId: 'obj_none' });
      const none = await rowFor('obj_none');
      assert.equal(none.user_agent, null, 'outside a request there is no meta');
      assert.equal(none.result, 'success');
    });
  });
}
