// PAYWARDEN_ROLE: which work a process does, so ingest and processing scale apart on PostgreSQL.
//   all     the API, the webhooks, the dashboard, the job workers and the schedules (the default);
//   api     the API, the webhooks and the dashboard only: answers fast, leaves the jobs to workers;
//   worker  the job workers and the schedules only, with /healthz, /readyz and /metrics.
// The older PAYWARDEN_RUN_WORKERS=false still means `api`.
import { readBool, readVar, type Env } from './env.ts';

export type ProcessRole = 'all' | 'api' | 'worker';
const ROLES: readonly ProcessRole[] = ['all', 'api', 'worker'];

export function readRole(env: Env, problems: string[]): ProcessRole {
  const raw = readVar(env, 'PAYWARDEN_ROLE', problems);
  const runWorkers =
    readVar(env, 'PAYWARDEN_RUN_WORKERS', problems) === undefined
      ? undefined
      : readBool(env, 'PAYWARDEN_RUN_WORKERS', true, problems);
  if (raw === undefined) return runWorkers === false ? 'api' : 'all';
  if (!ROLES.includes(raw as ProcessRole)) {
    problems.push(`PAYWARDEN_ROLE must be one of ${ROLES.join(', ')} (got "${raw}")`);
    return 'all';
  }
  const role = raw as ProcessRole;
  if (runWorkers !== undefined && runWorkers !== (role !== 'api'))
    problems.push(
      `PAYWARDEN_RUN_WORKERS=${String(runWorkers)} contradicts PAYWARDEN_ROLE=${role}; set only PAYWARDEN_ROLE`,
    );
  return role;
}

/** Whether a role runs the job workers and the schedules. */
export const runsWorkers = (role: ProcessRole): boolean => role !== 'api';
/** Whether a role serves the API, the webhooks and the dashboard. */
export const servesTraffic = (role: ProcessRole): boolean => role !== 'worker';
