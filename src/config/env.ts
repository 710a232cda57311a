import { readFileSync } from 'node:fs';
import { Secret } from '../crypto/secret.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads NAME, or the file named by NAME_FILE (Docker and Kubernetes secrets), never both (API-1,
 * DAT-4). Trailing newlines in secret files are the usual cause of "signature does not match", so
 * they are stripped.
 */
export function readVar(env: Env, name: string, problems: string[]): string | undefined {
  const direct = env[name];
  const filePath = env[`${name}_FILE`];
  if (direct !== undefined && direct !== '' && filePath !== undefined && filePath !== '') {
    problems.push(`${name} and ${name}_FILE are both set; set only one`);
    return undefined;
  }
  if (filePath !== undefined && filePath !== '') {
    try {
      return readFileSync(filePath, 'utf8').replace(/[\r\n]+$/, '');
    } catch {
      problems.push(`${name}_FILE points to ${filePath}, which cannot be read`);
      return undefined;
    }
  }
  return direct === '' ? undefined : direct;
}

export function readSecret(env: Env, name: string, problems: string[]): Secret | undefined {
  const value = readVar(env, name, problems);
  return value === undefined ? undefined : new Secret(value);
}

export function readInt(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = readVar(env, name, problems);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return fallback;
  }
  return Number(raw);
}

export function readBool(env: Env, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = readVar(env, name, problems);
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  problems.push(`${name} must be true or false (got "${raw}")`);
  return fallback;
}
