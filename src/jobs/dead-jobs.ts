// Dead jobs are the queue's one state that waits for a person: a job that used up its attempts (a
// provider down for a day, an endpoint that kept failing) or can never succeed as it is. Once the
// cause is fixed, an operator runs it again. Jobs belong to the deployment, not to one mode.
import type { Clock } from '../clock.ts';
import { writeAudit, type AuditActor } from '../audit/audit.ts';
import type { Db } from '../db/schema.ts';
import type { JobQueue } from './queue.ts';

/**
 * dead -> queued, due now, with its attempts counted from zero again; the only way out of dead,
 * and only by an operator. The change and its audit row commit together. Handlers are idempotent
 * (they re-read state and go through the state machines), so a second run can do no harm.
 * Returns false when there is no dead job with this id (it was run again already, or never died).
 */
export async function runDeadJobAgain(
  deps: { db: Db; clock: Clock; queue?: JobQueue },
  id: string,
  actor: AuditActor,
): Promise<boolean> {
  const now = deps.clock.nowMs();
  const revived = await deps.db.transaction().execute(async (tx) => {
    const job = await tx
      .updateTable('jobs')
      .set({ status: 'queued', attempts: 0, run_at: now, lease_until: null, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'dead')
      .returning(['kind', 'last_error'])
      .executeTakeFirst();
    if (job === undefined) return false;
    await writeAudit(tx, deps.clock, {
      mode: null,
      ...actor,
      action: 'job.run_again',
      objectType: 'job',
      objectId: id,
      details: { kind: job.kind, last_error: job.last_error },
    });
    return true;
  });
  // In the gateway, its own workers are woken; from the command line, the running gateway's
  // workers find the job at their next poll.
  if (revived) deps.queue?.notify();
  return revived;
}
