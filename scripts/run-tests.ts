// `npm test`: the whole suite on node:test. Under CI=true, PostgreSQL and Redis must be up (the
// suite fails otherwise); elsewhere their tests skip with a message saying why.
import { spawnSync } from 'node:child_process';
import { IN_CI, postgresUnavailable, redisUnavailable } from '../test/helpers/services.ts';

const problems = (await Promise.all([postgresUnavailable(), redisUnavailable()])).filter(
  (p): p is string => p !== undefined,
);
if (problems.length > 0) {
  const message = problems.map((p) => `  - ${p}`).join('\n');
  if (IN_CI) {
    console.error(`CI needs PostgreSQL and Redis:\n${message}`);
    process.exit(1);
  }
  console.warn(`Some tests will be skipped:\n${message}\n`);
}

const patterns = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['src/**/*.test.ts', 'test/**/*.test.ts'];
const result = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.PAYWARDEN_TEST_CONCURRENCY ?? '4'}`,
    '--test-timeout=120000',
    ...patterns,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
