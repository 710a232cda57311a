// LOG-4 on PostgreSQL: the grants documented in docs/audit-log.md, run as written (in a schema and
// with a role of this test's own), leave the gateway's role able to write audit rows through the
// real writer and seal them through the real sealer, but unable to change a row's content, change
// a sealed row at all (the column grant and migration 0019's guard together), or DELETE or
// TRUNCATE rows or checkpoints. The test fails if the documented block stops doing that.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { manualClock } from '../clock.ts';
import { openDatabase } from '../db/database.ts';
import { Secret } from '../crypto/secret.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { randomBase62 } from '../ids.ts';
import { auditEntry } from '../../test/helpers/audit.ts';
import { POSTGRES_URL, postgresUnavailable, skipUnless } from '../../test/helpers/services.ts';
import { writeAudit } from './audit.ts';
import { writeCheckpoints } from './checkpoints.ts';
import { sealAuditLog } from './sealer.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog } from './verify.ts';

const doc = readFileSync(new URL('../../docs/audit-log.md', import.meta.url), 'utf8');
const grantBlock = /## The gateway's database user[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)?.[1];

describe('audit grants on postgres', { skip: await skipUnless(postgresUnavailable) }, () => {
  const suffix = randomBase62(10).toLowerCase();
  const schema = `t_grants_${suffix}`;
  const role = `pw_gateway_${suffix}`;
  let admin: pg.Client;
  let owner: ReturnType<typeof openDatabase>;
  let gateway: ReturnType<typeof openDatabase>;
  const urlFor = (extraOptions: string) => {
    const url = new URL(POSTGRES_URL);
    url.searchParams.set('options', `-c search_path=${schema}${extraOptions}`);
    return url.toString();
  };

  before(async () => {
    admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.query(`create role ${role} nologin`);
    owner = openDatabase(urlFor(''), { poolSize: 2 });
    await migrateToLatest(owner);
    assert.ok(grantBlock, 'docs/audit-log.md has the grant block');
    await admin.query(
      grantBlock
        .replaceAll('paywarden_gateway', role)
        .replaceAll('paywarden.', `${schema}.`)
        .replaceAll('SCHEMA paywarden', `SCHEMA ${schema}`),
    );
    // The gateway's connections run as the restricted role (what a login as that role would be).
    gateway = openDatabase(urlFor(` -c role=${role}`), { poolSize: 2 });
  });
  after(async () => {
    await gateway?.close();
    await owner?.close();
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.query(`drop owned by ${role}`).catch(() => undefined);
    await admin.query(`drop role if exists ${role}`);
    await admin.end();
  });

  test('the gateway role writes and seals audit rows and checkpoints but cannot change, delete or truncate them', async () => {
    const clock = manualClock();
    const roleRow = (await sqlRows(gateway, 'select current_user as name'))[0] as { name: string };
    assert.equal(roleRow.name, role);
    const write = (objectId: string) => writeAudit(gateway.db, clock, auditEntry(objectId));

    await write('x_1');
    const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
    // Sealing (inside writeCheckpoints) runs as the gateway's role, as the gateway's sealer does.
    assert.equal(await writeCheckpoints({ ...gateway, clock, signer }), 1);
    await write('x_2');
    const report = await verifyAuditLog({
      db: gateway.db,
      keyring: keyringOf([signer.publicKey]),
      nowMs: clock.nowMs(),
    });
    assert.equal(report.ok, true, JSON.stringify(report.problems));

    for (const statement of [
      // A sealed row: neither its content (no column grant) nor its seal (the guard).
      "update audit_log set action = 'forged' where seq = 1",
      'update audit_log set seq = 7 where seq = 1',
      "update audit_log set hash = 'forged' where seq = 1",
      // An unsealed row: its content cannot change either, and it cannot be unsealed or half sealed.
      "update audit_log set action = 'forged' where seq = 0",
      "update audit_log set hash = 'forged' where seq = 0",
      'delete from audit_log',
      'delete from audit_log where seq = 0',
      'truncate audit_log',
      "update audit_checkpoints set hash = 'forged'",
      'delete from audit_checkpoints',
      "insert into audit_archives (id, chain, from_seq, to_seq, first_prev_hash, last_hash, file_name, file_sha256, row_count, newest_created_at, archived_at) values ('aar_x', 'test', 1, 1, 'x', 'x', 'x', 'x', 1, 1, 1)",
      'delete from audit_archives',
    ]) {
      await assert.rejects(sqlRows(gateway, statement), /permission denied/, statement);
    }
    // The unsealed row is still there, and the gateway's sealer still seals it.
    assert.equal(await sealAuditLog(gateway), 1);
    const sealed = await verifyAuditLog({
      db: gateway.db,
      keyring: keyringOf([signer.publicKey]),
      nowMs: clock.nowMs(),
    });
    assert.equal(sealed.ok, true, JSON.stringify(sealed.problems));
    assert.equal(sealed.chains.find((c) => c.chain === 'test')?.rowsChecked, 2);
    // The owner still can delete (that is who runs `paywarden audit archive`), and the rows were there.
    const rows = await sqlRows(owner, 'select count(*)::int as n from audit_log');
    assert.deepEqual(rows, [{ n: 2 }]);
  });
});

async function sqlRows(handle: ReturnType<typeof openDatabase>, text: string): Promise<unknown[]> {
  return (await sql.raw(text).execute(handle.db)).rows;
}
