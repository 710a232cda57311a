// `paywarden doctor` (LIVE-1): the go-live checklist, checked against a running deployment. From
// anywhere: TLS, headers, methods, exposure, clock. With the deployment's environment (run it on the
// host, with the gateway's variables): configuration, live credentials, webhook secrets, and
// through its database: durability, backups, dead jobs, keys, endpoints.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../clock.ts';
import type { Env } from '../config/env.ts';
import { openDatabase, type DatabaseHandle } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { configuredKeyring, defaultArchiveDir } from '../audit/deployment.ts';
import { advisoryCheck } from './advisories.ts';
import { guarded, result, type CheckResult } from './check.ts';
import { configChecks } from './config-checks.ts';
import { databaseChecks } from './database-checks.ts';
import { httpChecks } from './http-checks.ts';
import { tlsChecks } from './tls-checks.ts';

export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const ADVISORIES_FILE = fileURLToPath(new URL('../../ops/advisories.json', import.meta.url));

export interface DoctorOptions {
  /** The deployment's URL as its clients use it; default the configuration's PAYWARDEN_PUBLIC_URL. */
  readonly url?: string;
  readonly caFile?: string;
  readonly outside?: boolean;
  /** The deployment's environment; undefined checks only what the URL shows. */
  readonly env?: Env;
  readonly cwd?: string;
  readonly clock: Clock;
  /** A database handle to use instead of opening the configured one. */
  readonly database?: DatabaseHandle;
  readonly packageRoot?: string;
  readonly advisoriesFile?: string;
  readonly backupMaxAgeHours?: number;
}

export interface DoctorReport {
  readonly url: string | undefined;
  readonly results: readonly CheckResult[];
  readonly ok: boolean;
}

export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const results: CheckResult[] = [];
  const config = options.env === undefined ? undefined : configChecks(options.env, options.cwd);
  if (config !== undefined) results.push(...config.results);
  else
    results.push(
      result(
        'config.valid',
        'API-1',
        'skip',
        'no deployment environment given: configuration, secrets and database not checked',
      ),
    );

  const urlText = options.url ?? config?.config?.publicUrl;
  const ca = options.caFile === undefined ? undefined : readFileSync(options.caFile, 'utf8');
  if (urlText === undefined) {
    results.push(result('url', 'LIVE-1', 'fail', 'no URL to check', 'pass --url https://pay.example.com'));
  } else {
    const url = new URL(urlText);
    results.push(...(await guarded('tls', 'NET-1', () => tlsChecks({ url, ca, nowMs: options.clock.nowMs() }))));
    results.push(
      ...(await guarded('http', 'NET-1, NET-3', () =>
        httpChecks({ url, ca, nowMs: () => options.clock.nowMs(), outside: options.outside === true }),
      )),
    );
  }

  const database =
    options.database ?? (config?.config === undefined ? undefined : await openConfigured(config.config.databaseUrl));
  if (database === undefined) {
    results.push(
      result(
        'db',
        'LIVE-1',
        'skip',
        'no database access from here: durability, backups, dead jobs, keys and endpoints not checked',
      ),
    );
  } else {
    try {
      results.push(
        ...(await guarded('db', 'LIVE-1', () =>
          databaseChecks({
            database,
            nowMs: options.clock.nowMs(),
            liveEnabled: config?.config?.liveEnabled ?? false,
            ...(config?.config === undefined
              ? {}
              : {
                  auditKeyring: configuredKeyring(config.config),
                  ...(existsSync(defaultArchiveDir(config.config))
                    ? { auditArchiveDir: defaultArchiveDir(config.config) }
                    : {}),
                }),
            ...(options.backupMaxAgeHours === undefined ? {} : { backupMaxAgeHours: options.backupMaxAgeHours }),
          }),
        )),
      );
    } finally {
      if (options.database === undefined) await database.close();
    }
  }

  results.push(
    ...(await guarded('deps.advisories', 'NET-4', async () =>
      advisoryCheck(options.packageRoot ?? PACKAGE_ROOT, options.advisoriesFile ?? ADVISORIES_FILE),
    )),
  );
  return { url: urlText, results, ok: results.every((r) => r.status !== 'fail') };
}

async function openConfigured(databaseUrl: string): Promise<DatabaseHandle> {
  const handle = openDatabase(databaseUrl, { poolSize: 2 });
  // The same migrations the gateway runs at start; backup_runs may be newer than the deployment's.
  await migrateToLatest(handle);
  return handle;
}

const LABEL = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' } as const;

export function formatReport(report: DoctorReport): string {
  const lines = report.results.map(
    (r) =>
      `${LABEL[r.status]}  ${r.requirement.padEnd(14)} ${r.check.padEnd(28)} ${r.detail}${r.fix === '' || r.status === 'pass' ? '' : `\n      -> ${r.fix}`}`,
  );
  const count = (status: string) => report.results.filter((r) => r.status === status).length;
  lines.push(
    '',
    `${count('fail')} fail, ${count('warn')} warn, ${count('pass')} pass, ${count('skip')} skipped${report.url === undefined ? '' : ` (${report.url})`}`,
  );
  return lines.join('\n');
}
