// `paywarden doctor`: prints the report (or JSON) and sets the exit code: 1 on any fail.
import { systemClock } from '../clock.ts';
import { formatReport, runDoctor } from '../doctor/doctor.ts';

export interface DoctorCliOptions {
  readonly url?: string;
  readonly ca?: string;
  readonly outside?: boolean;
  readonly json?: boolean;
  /** false: check only what the URL shows (commander's --no-env). */
  readonly env?: boolean;
  readonly backupMaxAgeHours?: string;
}

export async function doctorFromCli(opts: DoctorCliOptions): Promise<number> {
  const report = await runDoctor({
    clock: systemClock,
    ...(opts.url === undefined ? {} : { url: opts.url }),
    ...(opts.ca === undefined ? {} : { caFile: opts.ca }),
    outside: opts.outside === true,
    ...(opts.env === false ? {} : { env: process.env }),
    ...(opts.backupMaxAgeHours === undefined ? {} : { backupMaxAgeHours: Number(opts.backupMaxAgeHours) }),
  });
  console.log(opts.json === true ? JSON.stringify(report, null, 2) : formatReport(report));
  return report.ok ? 0 : 1;
}
