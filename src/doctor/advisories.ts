// NET-4 offline: the installed dependency tree (node_modules/.package-lock.json, which npm writes at
// install) against a committed list of known-vulnerable ranges (ops/advisories.json). npm audit
// would ask the registry, which an offline or mirrored install cannot.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { result, type CheckResult } from './check.ts';

export interface Advisory {
  readonly id: string;
  readonly package: string;
  readonly vulnerable: string;
  readonly summary: string;
}

type Version = readonly [number, number, number];

function parseVersion(text: string): Version | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(text.trim());
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i += 1) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}

/** `>=1.2.0 <1.4.0 || <0.9.0`: the subset of npm's range syntax the advisory list uses. */
export function satisfies(versionText: string, range: string): boolean {
  const version = parseVersion(versionText);
  if (version === undefined) return false;
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .split(/\s+/)
      .filter((c) => c !== '')
      .every((comparator) => {
        const match = /^(<=|>=|<|>|=)?(.+)$/.exec(comparator);
        const bound = parseVersion(match?.[2] ?? '');
        if (match === null || bound === undefined) return false;
        const order = compare(version, bound);
        switch (match[1]) {
          case '<':
            return order < 0;
          case '<=':
            return order <= 0;
          case '>':
            return order > 0;
          case '>=':
            return order >= 0;
          default:
            return order === 0;
        }
      }),
  );
}

/** Every installed copy of every package (nested copies included), as name -> versions. */
export function installedPackages(root: string): Map<string, Set<string>> {
  const hidden = join(root, 'node_modules', '.package-lock.json');
  const lockFile = existsSync(hidden) ? hidden : join(root, 'package-lock.json');
  const lock = JSON.parse(readFileSync(lockFile, 'utf8')) as { packages?: Record<string, { version?: string }> };
  const installed = new Map<string, Set<string>>();
  for (const [path, info] of Object.entries(lock.packages ?? {})) {
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (path === '' || info.version === undefined) continue;
    installed.set(name, (installed.get(name) ?? new Set()).add(info.version));
  }
  return installed;
}

export function advisoryCheck(root: string, advisoriesFile: string): CheckResult {
  const list = JSON.parse(readFileSync(advisoriesFile, 'utf8')) as { updated: string; advisories: Advisory[] };
  const installed = installedPackages(root);
  const hits: string[] = [];
  for (const advisory of list.advisories)
    for (const version of installed.get(advisory.package) ?? [])
      if (satisfies(version, advisory.vulnerable))
        hits.push(`${advisory.package}@${version} (${advisory.id}: ${advisory.summary})`);
  const note = `offline list of ${list.advisories.length} advisories updated ${list.updated}; npm audit is not used (it needs the registry's audit service)`;
  if (hits.length > 0)
    return result(
      'deps.advisories',
      'NET-4',
      'fail',
      `known-vulnerable versions installed: ${hits.join('; ')}`,
      'upgrade them (npm update PACKAGE, or a newer Paywarden release) and reinstall',
    );
  return result('deps.advisories', 'NET-4', 'pass', `none of ${installed.size} installed packages is listed (${note})`);
}
