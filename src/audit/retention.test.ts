// Retention (LOG-4) with a manual clock on both databases: sealed rows older than 3 months move to
// an archive file and out of the database (unsealed ones never do), the remaining chain still verifies from the archived head,
// `verify` checks the files too (and finds them changed or missing), a broken range is never
// archived, and files past 12 months are deleted without breaking verification.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';
import { allowOwnerTampering } from '../../test/helpers/audit.ts';
import { writeAudit } from './audit.ts';
import { writeCheckpoints } from './checkpoints.ts';
import { applyRetention } from './retention.ts';
import { sealAuditLog } from './sealer.ts';
import { checkpointSigner, keyringOf } from './signing-key.ts';
import { verifyAuditLog } from './verify.ts';

const DAY_MS = 86_400_000;
const signer = checkpointSigner(new Secret(randomBytes(32).toString('base64')));
const keyring = keyringOf([signer.publicKey]);

for (const dialect of await testDialects()) {
  describe(`audit retention on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    const archiveDir = mkdtempSync(join(tmpdir(), 'paywarden-archive-'));
    const clock = manualClock(Date.UTC(2026, 0, 1));
    before(async () => {
      database = await openTestDatabase(dialect);
      await allowOwnerTampering(database);
    });
    after(async () => {
      await database.close();
      rmSync(archiveDir, { recursive: true, force: true });
    });
    const lane = 'test';
    const liveLane = 'live';
    const write = async (name: string) => {
      await writeAudit(database.db, clock, {
        mode: 'test',
        actorType: 'system',
        actorId: null,
        action: 'x.done',
        objectType: 'x',
        objectId: 'x_retention',
        details: { name },
      });
      await sealAuditLog(database);
    };
    const countInDb = async () =>
      Number(
        (
          await database.db
            .selectFrom('audit_log')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('chain', '=', lane)
            .executeTakeFirstOrThrow()
        ).n,
      );

    test('archive after 3 months, verify through the files, expire after 12 months', async () => {
      // Ten rows a month apart (January to October), with checkpoints along the way.
      for (let month = 0; month < 10; month += 1) {
        clock.set(Date.UTC(2026, month, 15));
        await write(`x_${month}`);
        await writeCheckpoints({ ...database, clock, signer });
      }
      clock.set(Date.UTC(2026, 10, 1)); // 1 November: rows before 1 August go
      const first = await applyRetention({ ...database, clock, archiveDir });
      assert.deepEqual(
        first.archived.map((a) => [a.chain, a.fromSeq, a.toSeq]),
        [[lane, 1, 7]],
      );
      assert.equal(await countInDb(), 3, 'August, September and October stay at hand');
      const file = join(archiveDir, first.archived[0]!.fileName);
      const lines = readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        lines.map((l) => l.seq),
        [1, 2, 3, 4, 5, 6, 7],
      );
      assert.ok(lines.every((l) => typeof l.hash === 'string' && typeof l.prev_hash === 'string'));

      const withFiles = await verifyAuditLog({ db: database.db, keyring, archiveDir });
      assert.equal(withFiles.ok, true, JSON.stringify(withFiles.problems));
      assert.equal(withFiles.chains.find((c) => c.chain === lane)!.rowsChecked, 10);
      const withoutFiles = await verifyAuditLog({ db: database.db, keyring });
      assert.equal(withoutFiles.ok, true, 'the remaining chain verifies from the archived head');
      assert.equal(withoutFiles.chains.find((c) => c.chain === lane)!.archivedRowsSkipped, 7);

      // Running again moves nothing; a new row keeps the chain going past the archive.
      assert.deepEqual((await applyRetention({ ...database, clock, archiveDir })).archived, []);
      await write('x_nov');
      assert.equal((await verifyAuditLog({ db: database.db, keyring, archiveDir })).ok, true);

      // A changed archive file is found, whether the row was edited with or without its hash.
      const original = readFileSync(file, 'utf8');
      writeFileSync(file, original.replace('\\"x_3\\"', '\\"x_33\\"'));
      const changed = await verifyAuditLog({ db: database.db, keyring, archiveDir });
      assert.deepEqual([changed.problems[0]?.kind, changed.problems[0]?.seq], ['changed', 4]);
      writeFileSync(file, original.replace(/\n$/, '\n\n'));
      assert.equal(
        (await verifyAuditLog({ db: database.db, keyring, archiveDir })).problems[0]?.kind,
        'archive_invalid',
      );
      rmSync(file);
      const missing = await verifyAuditLog({ db: database.db, keyring, archiveDir });
      assert.match(missing.problems[0]?.message ?? '', /missing/);
      writeFileSync(file, original);

      // Removing the first row left in the database breaks the link to the archive.
      const eighth = await database.db
        .selectFrom('audit_log')
        .selectAll()
        .where('chain', '=', lane)
        .where('seq', '=', 8)
        .executeTakeFirstOrThrow();
      await sql`delete from audit_log where chain = ${lane} and seq = 8`.execute(database.db);
      assert.deepEqual(
        ((p) => [p?.kind, p?.seq])((await verifyAuditLog({ db: database.db, keyring, archiveDir })).problems[0]),
        ['removed', 8],
      );
      await database.db.insertInto('audit_log').values(eighth).execute();
      assert.equal((await verifyAuditLog({ db: database.db, keyring, archiveDir })).ok, true);
    });

    test('a range that does not verify is not archived', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'paywarden-archive-'));
      const other = await openTestDatabase(dialect);
      try {
        clock.set(Date.UTC(2026, 0, 1));
        for (let i = 0; i < 3; i += 1)
          await writeAudit(other.db, clock, {
            mode: 'live',
            actorType: 'system',
            actorId: null,
            action: 'x',
            objectType: 'x',
            objectId: 'x_retention',
            details: { i },
          });
        await sealAuditLog(other);
        await allowOwnerTampering(other);
        await sql`update audit_log set action = 'forged' where chain = ${liveLane} and seq = 2`.execute(other.db);
        clock.set(Date.UTC(2026, 6, 1));
        const result = await applyRetention({ ...other, clock, archiveDir: dir });
        assert.deepEqual(result.archived, []);
        assert.deepEqual(
          result.refused.map((r) => [r.chain, r.seq]),
          [[liveLane, 2]],
        );
        const left = await other.db.selectFrom('audit_log').select('seq').where('chain', '=', liveLane).execute();
        assert.equal(left.length, 3, 'nothing was deleted');
      } finally {
        await other.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('files past 12 months are deleted and the chain verifies from the first archive kept', async () => {
      clock.set(Date.UTC(2027, 8, 1) + DAY_MS); // the January to July 2026 archive is past 12 months
      const result = await applyRetention({ ...database, clock, archiveDir });
      assert.ok(result.expired.length === 1 && result.expired[0]!.chain === lane);
      assert.equal(existsSync(join(archiveDir, result.expired[0]!.fileName)), false);
      // August 2026 onwards was archived in the same run; the chain now starts at row 8.
      assert.deepEqual(
        result.archived.map((a) => [a.fromSeq, a.toSeq]),
        [[8, 11]],
      );
      assert.equal(await countInDb(), 0);
      const report = await verifyAuditLog({ db: database.db, keyring, archiveDir });
      assert.equal(report.ok, true, JSON.stringify(report.problems));
      assert.equal(report.chains.find((c) => c.chain === lane)!.rowsChecked, 4);
      // The chain's start is now the kept archive's recorded predecessor: a forged one is found.
      await sql`update audit_archives set first_prev_hash = ${'f'.repeat(64)} where chain = ${lane} and from_seq = 8`.execute(
        database.db,
      );
      assert.deepEqual(
        ((p) => [p?.kind, p?.seq])((await verifyAuditLog({ db: database.db, keyring, archiveDir })).problems[0]),
        ['archive_invalid', 8],
      );
    });
  });
}
