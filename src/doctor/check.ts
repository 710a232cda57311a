// One line of the go-live report (LIVE-1): which requirement it checks, how it went, what to do.
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

export interface CheckResult {
  /** Stable name of the check, e.g. `tls.versions`. */
  readonly check: string;
  /** Requirement ID(s) from the catalogue (docs/security-checklist.md), e.g. `NET-1`. */
  readonly requirement: string;
  readonly status: CheckStatus;
  /** What was found, in one sentence. */
  readonly detail: string;
  /** What to do about it; empty when nothing needs doing. */
  readonly fix: string;
}

export function result(check: string, requirement: string, status: CheckStatus, detail: string, fix = ''): CheckResult {
  return { check, requirement, status, detail, fix };
}

/** Runs one check; a check that throws is reported as a failure of that check, not of the run. */
export async function guarded(
  check: string,
  requirement: string,
  run: () => Promise<CheckResult | readonly CheckResult[]>,
): Promise<readonly CheckResult[]> {
  try {
    const outcome = await run();
    return Array.isArray(outcome) ? outcome : [outcome as CheckResult];
  } catch (error) {
    return [
      result(
        check,
        requirement,
        'fail',
        `the check could not run: ${error instanceof Error ? error.message : String(error)}`,
        'fix what the message names, then run doctor again',
      ),
    ];
  }
}
