// Background jobs: what is waiting, how long the oldest due job has waited, and the dead jobs with
// their last error, each with a button to run it again once the cause is fixed.
import type { DeadJob } from '../../jobs/queue-state.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField, isoTime } from '../layout.ts';

export interface JobsPageData {
  readonly counts: ReadonlyArray<{ readonly status: string; readonly kind: string; readonly count: number }>;
  readonly oldestReadyWaitMs: number;
  readonly dead: readonly DeadJob[];
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

export function jobsPage(data: JobsPageData, csrfToken: string): SafeHtml {
  return html`<p>Jobs belong to the deployment (test and live alike). The oldest job that is due has waited <strong id="oldest-ready">${seconds(data.oldestReadyWaitMs)}</strong>.</p>
${
  data.counts.length === 0
    ? html`<p id="queue-empty">No jobs are waiting, running or dead.</p>`
    : html`<table id="job-counts"><thead><tr><th>Status</th><th>Kind</th><th>Jobs</th></tr></thead><tbody>${data.counts.map((c) => html`<tr><td>${c.status}</td><td>${c.kind}</td><td>${c.count}</td></tr>`)}</tbody></table>`
}
<h2>Dead jobs</h2>
${
  data.dead.length === 0
    ? html`<p id="no-dead-jobs">No dead jobs.</p>`
    : html`<p>A dead job used up its attempts or can never succeed as it is. Fix the cause (the error says what failed), then run it again: jobs are safe to run twice.</p>
<table id="dead-jobs"><thead><tr><th>Job</th><th>Kind</th><th>Attempts</th><th>Died</th><th>Last error</th><th></th></tr></thead><tbody>${data.dead.map(
        (job) =>
          html`<tr><td><code>${job.id}</code></td><td>${job.kind}</td><td>${job.attempts}</td><td>${isoTime(job.diedAtMs)}</td><td class="error-text">${job.lastError ?? '—'}</td><td><form method="post" action="/dashboard/jobs/${job.id}/run-again" class="inline">${csrfField(csrfToken)}<button type="submit">Run again</button></form></td></tr>`,
      )}</tbody></table>`
}`;
}
