// `paywarden jobs list|run-again`: the background queue for operators without the dashboard (the
// same reads and the same audited change as its Jobs page).
import type { Clock } from '../clock.ts';
import type { Db } from '../db/schema.ts';
import { isId } from '../ids.ts';
import { runDeadJobAgain } from '../jobs/dead-jobs.ts';
import { deadJobs, oldestReadyWaitMs, queueCounts } from '../jobs/queue-state.ts';

/** One line per job in a terminal: the stored error may hold line breaks or control characters. */
const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');

export async function listJobs(db: Db, clock: Clock): Promise<string> {
  const [counts, waitMs, dead] = await Promise.all([
    queueCounts(db),
    oldestReadyWaitMs(db, clock.nowMs()),
    deadJobs(db),
  ]);
  const lines = [`Oldest due job has waited ${Math.round(waitMs / 1000)} s.`, ''];
  if (counts.length === 0) lines.push('No jobs are waiting, running or dead.');
  else
    lines.push(
      ['status', 'kind', 'jobs'].join('\t'),
      ...counts.map((c) => [c.status, c.kind, String(c.count)].join('\t')),
    );
  if (dead.length > 0) {
    lines.push(
      '',
      'Dead jobs (newest first; `paywarden jobs run-again <id>` once the cause is fixed):',
      ['id', 'kind', 'attempts', 'died', 'last error'].join('\t'),
    );
    for (const job of dead)
      lines.push(
        [
          job.id,
          oneLine(job.kind),
          String(job.attempts),
          new Date(job.diedAtMs).toISOString(),
          oneLine(job.lastError ?? '-'),
        ].join('\t'),
      );
  }
  return lines.join('\n');
}

export async function runJobAgainFromCli(db: Db, clock: Clock, id: string): Promise<{ ok: boolean; text: string }> {
  if (!isId('job', id))
    return {
      ok: false,
      text: `"${oneLine(id).slice(0, 40)}" is not a job id (job_ followed by 22 letters and digits).`,
    };
  const revived = await runDeadJobAgain({ db, clock }, id, { actorType: 'cli', actorId: null });
  return revived
    ? { ok: true, text: `Queued ${id} to run again; the gateway's workers pick it up within a second.` }
    : { ok: false, text: `There is no dead job ${id}: it may have been run again already.` };
}
