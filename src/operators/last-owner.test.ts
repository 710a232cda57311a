// The last active owner cannot be demoted or disabled, even by two owners at the same moment: two
// owners each demote (or disable) the other concurrently, many times over; exactly one wins each
// race and one active owner is always left. On PostgreSQL the two run on separate connections, so
// without the row lock inside the transaction both would pass the check and leave no owner.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { manualClock } from '../clock.ts';
import { Secret } from '../crypto/secret.ts';
import { newId } from '../ids.ts';
import { openTestDatabase, testDialects } from '../../test/helpers/databases.ts';
import { createOperatorService } from './accounts.ts';
import { operatorDb } from './schema.ts';

const ROUNDS = 8;

for (const dialect of await testDialects()) {
  describe(`last active owner on ${dialect.name}`, { skip: dialect.skip }, () => {
    let database: Awaited<ReturnType<typeof openTestDatabase>>;
    before(async () => {
      database = await openTestDatabase(dialect);
    });
    after(async () => database.close());
    const clock = manualClock();

    /** Two active, enrolled owners (rows written directly: the race is about the rule, not sign-in). */
    async function twoOwners(): Promise<[string, string]> {
      const db = operatorDb(database.db);
      await db.updateTable('operators').set({ disabled_at: 1 }).execute();
      const ids: string[] = [];
      for (let i = 0; i < 2; i += 1) {
        const id = newId('req').replace('req_', 'op_');
        await db
          .insertInto('operators')
          .values({
            id,
            email: `${id.toLowerCase()}@example.com`,
            name: 'Owner',
            role: 'owner',
            password_hash: 'x',
            password_history_json: '[]',
            totp_sealed: null,
            totp_enabled_at: 1,
            totp_last_step: null,
            failed_attempts: 0,
            locked_until: null,
            disabled_at: null,
            created_at: 1,
            updated_at: 1,
          })
          .execute();
        ids.push(id);
      }
      return [ids[0]!, ids[1]!];
    }
    const activeOwners = () =>
      operatorDb(database.db)
        .selectFrom('operators')
        .select('id')
        .where('role', '=', 'owner')
        .where('disabled_at', 'is', null)
        .execute();

    for (const action of ['demote', 'disable'] as const)
      test(`two owners who ${action} each other at once: exactly one wins, one owner is left`, async () => {
        // Separate services (as two gateway processes would have), sharing only the database.
        const services = [0, 1].map(() =>
          createOperatorService({
            db: database.db,
            dialect: database.dialect,
            clock,
            masterKey: new Secret(randomBytes(32).toString('base64')),
          }),
        );
        for (let round = 0; round < ROUNDS; round += 1) {
          const [a, b] = await twoOwners();
          const act = (service: (typeof services)[number], actorId: string, operatorId: string) =>
            action === 'demote'
              ? service.changeRole({ actorId, operatorId, role: 'admin' })
              : service.disable({ actorId, operatorId });
          const outcomes = await Promise.all([act(services[0]!, a, b), act(services[1]!, b, a)]);
          const wins = outcomes.filter((o) => o.ok).length;
          assert.equal(wins, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
          // The loser is refused as the last owner, or (if it started after the winner committed)
          // because it is no longer an owner itself.
          const loser = outcomes.find((o) => !o.ok);
          assert.ok(
            loser !== undefined && !loser.ok && (loser.error === 'last_owner' || loser.error === 'forbidden'),
            JSON.stringify(loser),
          );
          assert.equal((await activeOwners()).length, 1);
        }
      });
  });
}
