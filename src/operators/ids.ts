import { randomBase62 } from '../ids.ts';

// Operator-side ids keep their prefixes here rather than in src/ids.ts, so this folder stays
// self-contained. Same 22 base62 characters as `newId`, all random: these tables are small and
// never on a hot path, so time-ordering buys nothing.
export type OperatorIdPrefix = 'op' | 'ses' | 'inv' | 'rc' | 'lch' | 'pk' | 'wac';

export function operatorObjectId(prefix: OperatorIdPrefix): string {
  return `${prefix}_${randomBase62(22)}`;
}
