// Nothing stays open silently (PAY-2): payouts whose next check is due (open or unknown ones on
// their schedule, recent successes once more for a reversal whose webhook was lost) get one check
// job each. The check (src/payouts/engine.ts) asks the provider and sets the next time, or sends
// the payout to review with an alert-level log when the schedule runs out.
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { CHECK_PAYOUT_JOB } from '../payouts/engine.ts';

export const PAYOUT_SWEEP_BATCH = 100;
/** A claimed check that never reported back (a crash) is looked at again after this. */
const CLAIM_MS = 5 * 60_000;

export function createPayoutSweep(deps: { db: Db; queue: JobQueue; clock: Clock }) {
  async function sweep(): Promise<number> {
    const now = deps.clock.nowMs();
    const due = await deps.db
      .selectFrom('payouts')
      .select(['id', 'next_check_at'])
      .where('next_check_at', '<=', now)
      .orderBy('next_check_at')
      .limit(PAYOUT_SWEEP_BATCH)
      .execute();
    for (const payout of due) {
      await deps.db.transaction().execute(async (trx) => {
        const claimed = await trx
          .updateTable('payouts')
          .set({ next_check_at: now + CLAIM_MS })
          .where('id', '=', payout.id)
          .where('next_check_at', '=', payout.next_check_at)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) return;
        await deps.queue.enqueue(trx, {
          kind: CHECK_PAYOUT_JOB,
          payload: { payoutId: payout.id, trigger: 'sweep' },
          dedupeKey: `payout-check:${payout.id}`,
          maxAttempts: 20,
        });
      });
    }
    if (due.length > 0) deps.queue.notify();
    return due.length;
  }
  return { sweep };
}

export type PayoutSweep = ReturnType<typeof createPayoutSweep>;
