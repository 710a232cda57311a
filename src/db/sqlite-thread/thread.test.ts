// The SQLite thread's group commit, against a real database file: statements from different
// callers share a commit, yet each caller sees exactly what autocommit would have given it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kysely, sql, type Generated } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteThread, ThreadedSqliteDialect, threadAtomicWriter } from './driver.ts';

interface Tables {
  items: { id: Generated<number>; name: string };
  parents: { id: number };
  children: { id: number; parent_id: number };
}

const dir = mkdtempSync(join(tmpdir(), 'paywarden-thread-'));
const path = join(dir, 'thread.sqlite');
let thread: SqliteThread;
let db: Kysely<Tables>;

before(async () => {
  thread = new SqliteThread(path);
  db = new Kysely<Tables>({ dialect: new ThreadedSqliteDialect(thread) });
  await sql`create table items (id integer primary key, name text not null unique)`.execute(db);
  await sql`create table parents (id integer primary key)`.execute(db);
  // Checked at commit, not per statement: the one way to make a commit fail on demand.
  await sql`create table children (id integer primary key, parent_id integer not null references parents (id) deferrable initially deferred)`.execute(
    db,
  );
});

after(async () => {
  await db.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What is on disk, read by a separate connection: only committed rows. */
function committedNames(): string[] {
  const reader = new BetterSqlite3(path, { readonly: true });
  try {
    return (reader.prepare('select name from items order by id').all() as Array<{ name: string }>).map((r) => r.name);
  } finally {
    reader.close();
  }
}

test('concurrent writes from separate callers share commits, and each is committed when answered', async () => {
  const before = await thread.stats();
  const names = Array.from({ length: 60 }, (_, i) => `shared-${i}`);
  await Promise.all(
    names.map(async (name) => {
      await db.insertInto('items').values({ name }).execute();
      assert.ok(committedNames().includes(name), `${name} is durable once its caller is answered`);
    }),
  );
  const afterStats = await thread.stats();
  const commits = afterStats.groupCommits - before.groupCommits;
  assert.equal(afterStats.groupedRequests - before.groupedRequests, 60);
  assert.ok(commits < 60 / 4, `60 concurrent writes took ${commits} commits`);
});

test('a failing statement fails only its own caller; the rest of its group commits', async () => {
  await db.insertInto('items').values({ name: 'taken' }).execute();
  const outcomes = await Promise.allSettled(
    ['g-1', 'g-2', 'taken', 'g-3'].map((name) => db.insertInto('items').values({ name }).execute()),
  );
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'],
  );
  const failure = (outcomes[2] as PromiseRejectedResult).reason as { code?: string };
  assert.match(String(failure.code), /^SQLITE_CONSTRAINT/);
  for (const name of ['g-1', 'g-2', 'g-3']) assert.ok(committedNames().includes(name));
});

test('a group whose commit fails is written again one by one: only the bad write fails', async () => {
  await db.insertInto('parents').values({ id: 1 }).execute();
  const before = await thread.stats();
  const outcomes = await Promise.allSettled([
    db.insertInto('children').values({ id: 10, parent_id: 1 }).execute(),
    db.insertInto('children').values({ id: 11, parent_id: 999 }).execute(),
    db.insertInto('children').values({ id: 12, parent_id: 1 }).execute(),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  assert.ok((await thread.stats()).groupFallbacks > before.groupFallbacks, 'the group fell back');
  const children = await db.selectFrom('children').select('id').orderBy('id').execute();
  assert.deepEqual(
    children.map((c) => c.id),
    [10, 12],
  );
});

test("a caller's transaction never carries anyone else's write, and its rollback takes back only its own", async () => {
  let outsideSettled = false;
  let outside: Promise<unknown> | undefined;
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'inside' }).execute();
      // Another caller writes while the transaction is open: it waits for the transaction to end.
      outside = db
        .insertInto('items')
        .values({ name: 'outside' })
        .execute()
        .finally(() => (outsideSettled = true));
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(outsideSettled, false, 'the outside write waits for the open transaction');
      assert.equal(committedNames().includes('inside'), false);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  await outside;
  const names = committedNames();
  assert.equal(names.includes('inside'), false, 'rolled back');
  assert.ok(names.includes('outside'), 'committed on its own, after the transaction ended');
});

test('transactions still run one at a time and each sees its own writes', async () => {
  const order: string[] = [];
  await Promise.all(
    ['t1', 't2', 't3'].map((name) =>
      db.transaction().execute(async (trx) => {
        order.push(`begin ${name}`);
        await trx.insertInto('items').values({ name }).execute();
        const seen = await trx.selectFrom('items').select('name').where('name', '=', name).executeTakeFirst();
        assert.equal(seen?.name, name);
        order.push(`end ${name}`);
      }),
    ),
  );
  assert.deepEqual(order, ['begin t1', 'end t1', 'begin t2', 'end t2', 'begin t3', 'end t3']);
});

test('reads answer with committed data, and a read in a group sees the writes before it', async () => {
  const [inserted, read] = await Promise.all([
    db.insertInto('items').values({ name: 'read-after-write' }).execute(),
    db.selectFrom('items').select('name').where('name', '=', 'read-after-write').execute(),
  ]);
  assert.equal(inserted.length, 1);
  assert.deepEqual(read, [{ name: 'read-after-write' }]);
  assert.ok(committedNames().includes('read-after-write'));
});

test('schema changes run on their own, between grouped writes', async () => {
  const writes = ['ddl-1', 'ddl-2'].map((name) => db.insertInto('items').values({ name }).execute());
  await sql`create table if not exists extra (id integer primary key)`.execute(db);
  await Promise.all(writes);
  assert.deepEqual(await sql`select count(*) as n from extra`.execute(db).then((r) => r.rows), [{ n: 0 }]);
});

test('concurrent transactions share commits, and each is durable when it resolves', async () => {
  // A group commits before the next transaction begins once it is GROUP_MAX_AGE_MS old (2 ms by
  // default), which on a loaded machine can be every time: a thread with a generous age shows the
  // sharing whatever the load.
  const patientPath = join(dir, 'patient.sqlite');
  const patientThread = new SqliteThread(patientPath, { groupMaxAgeMs: 10_000 });
  const patient = new Kysely<Tables>({ dialect: new ThreadedSqliteDialect(patientThread) });
  await sql`create table items (id integer primary key, name text not null unique)`.execute(patient);
  const committed = () => {
    const reader = new BetterSqlite3(patientPath, { readonly: true });
    try {
      return (reader.prepare('select name from items').all() as Array<{ name: string }>).map((r) => r.name);
    } finally {
      reader.close();
    }
  };
  const before = await patientThread.stats();
  const names = Array.from({ length: 24 }, (_, i) => `tx-shared-${i}`);
  await Promise.all(
    names.map(async (name) => {
      await patient.transaction().execute(async (trx) => {
        await trx.insertInto('items').values({ name }).execute();
        await trx.selectFrom('items').select('id').where('name', '=', name).executeTakeFirstOrThrow();
      });
      assert.ok(committed().includes(name), `${name} is durable once its transaction resolves`);
    }),
  );
  const commits = (await patientThread.stats()).groupCommits - before.groupCommits;
  await patient.destroy();
  assert.ok(commits < names.length, `24 transactions took ${commits} commits`);
});

test("a transaction rolled back inside a group takes back only its own writes, not the earlier transaction's", async () => {
  const first = db.transaction().execute((trx) => trx.insertInto('items').values({ name: 'kept-tx' }).execute());
  // Its rejection is awaited at once: it may settle before the first transaction does.
  const second = assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'undone-tx' }).execute();
      throw new Error('undo');
    }),
    /undo/,
  );
  const third = db.insertInto('items').values({ name: 'kept-standalone' }).execute();
  await first;
  await second;
  await third;
  const names = committedNames();
  assert.ok(names.includes('kept-tx'));
  assert.ok(names.includes('kept-standalone'));
  assert.equal(names.includes('undone-tx'), false);
});

test('a transaction whose group commit fails is told so; standalone writes of the group are written again alone', async () => {
  await db.insertInto('parents').values({ id: 2 }).execute();
  const outcomes = await Promise.allSettled([
    // A deferred constraint is checked at the group's commit: this transaction breaks it.
    db.transaction().execute((trx) => trx.insertInto('children').values({ id: 20, parent_id: 998 }).execute()),
    db.insertInto('children').values({ id: 21, parent_id: 2 }).execute(),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['rejected', 'fulfilled'],
  );
  const ids = (await db.selectFrom('children').select('id').where('id', '>=', 20).execute()).map((c) => c.id);
  assert.deepEqual(ids, [21]);
  // The next transaction starts clean.
  await db.transaction().execute((trx) => trx.insertInto('items').values({ name: 'after-failed-group' }).execute());
  assert.ok(committedNames().includes('after-failed-group'));
});

test('an atomic batch commits whole or not at all, beside the rest of its group', async () => {
  const write = threadAtomicWriter(thread);
  const insert = (name: string) => db.insertInto('items').values({ name }).compile();
  await db.insertInto('items').values({ name: 'atomic-taken' }).execute();
  const outcomes = await Promise.allSettled([
    write([insert('atomic-a1'), insert('atomic-a2')]),
    // Its second insert breaks the unique name: its first is taken back with it.
    write([insert('atomic-b1'), insert('atomic-taken')]),
    db.insertInto('items').values({ name: 'atomic-alone' }).execute(),
  ]);
  assert.deepEqual(
    outcomes.map((o) => o.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  );
  const names = committedNames();
  for (const name of ['atomic-a1', 'atomic-a2', 'atomic-alone']) assert.ok(names.includes(name), name);
  assert.ok(!names.includes('atomic-b1'), 'the failed batch left nothing behind');
});

test("a transaction's BEGIN is answered at once unless another connection holds the write lock; then the event loop keeps running while it waits", async () => {
  const other = new SqliteThread(path);
  const otherDb = new Kysely<Tables>({ dialect: new ThreadedSqliteDialect(other) });
  try {
    // Statements inside a transaction, BEGIN included, are answered synchronously: nothing else
    // (here a timer due at once) runs in between.
    const order: string[] = [];
    setImmediate(() => order.push('event loop turn'));
    await db.transaction().execute(async (trx) => {
      order.push('begun');
      await trx.insertInto('items').values({ name: 'sync-begin-1' }).execute();
      order.push('inserted');
    });
    assert.deepEqual(order.slice(0, 2), ['begun', 'inserted'], 'no turn of the event loop inside the transaction');

    // This thread holds the write lock (its transaction is open); the other's BEGIN cannot get it.
    let ticks = 0;
    const ticker = setInterval(() => (ticks += 1), 5);
    let otherDone = false;
    let otherWrite: Promise<void> | undefined;
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'sync-begin-2' }).execute();
      otherWrite = otherDb
        .transaction()
        .execute(async (otherTrx) => {
          await otherTrx.insertInto('items').values({ name: 'sync-begin-3' }).execute();
        })
        .then(() => {
          otherDone = true;
        });
      // The other BEGIN was refused at once and asked again asynchronously: still waiting, and
      // this event loop is free (the ticker runs) while this transaction stays open.
      const ticksBefore = ticks;
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(otherDone, false, 'the other transaction waits for the write lock');
      assert.ok(ticks > ticksBefore, 'the event loop ran while the other BEGIN waited');
    });
    await otherWrite;
    clearInterval(ticker);
    assert.equal(otherDone, true);
    assert.ok(committedNames().includes('sync-begin-2') && committedNames().includes('sync-begin-3'));
  } finally {
    await otherDb.destroy();
  }
});

test("a transaction's BEGIN travels with its first statement: one hand-off each, none for a transaction that runs nothing", async () => {
  const handOffs = async (run: () => Promise<unknown>) => {
    const before = (await thread.stats()).syncAnswers;
    await run();
    return (await thread.stats()).syncAnswers - before;
  };
  // Two statements, two synchronous answers: the BEGIN took none of its own.
  const two = await handOffs(() =>
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'begin-rides-1' }).execute();
      await trx.selectFrom('items').select('id').where('name', '=', 'begin-rides-1').executeTakeFirstOrThrow();
    }),
  );
  assert.equal(two, 2);
  assert.equal(await handOffs(() => db.transaction().execute(async () => 'nothing')), 0);

  // The first statement fails after its BEGIN ran: the transaction is open, and rolls back whole.
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'begin-rides-1' }).execute();
    }),
    /UNIQUE/,
  );
  await assert.rejects(
    db.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name: 'begin-rides-2' }).execute();
      await trx.insertInto('items').values({ name: 'begin-rides-1' }).execute();
    }),
    /UNIQUE/,
  );
  // The next transaction begins cleanly and commits.
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('items').values({ name: 'begin-rides-3' }).execute();
  });
  const names = committedNames();
  assert.ok(names.includes('begin-rides-3'));
  assert.ok(!names.includes('begin-rides-2'), 'the failed transaction left nothing');
});
