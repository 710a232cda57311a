import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRole } from './role.ts';

const role = (env: Record<string, string>) => {
  const problems: string[] = [];
  return { role: readRole(env, problems), problems };
};

test('PAYWARDEN_ROLE: all by default; api and worker on request', () => {
  assert.deepEqual(role({}), { role: 'all', problems: [] });
  assert.deepEqual(role({ PAYWARDEN_ROLE: 'api' }), { role: 'api', problems: [] });
  assert.deepEqual(role({ PAYWARDEN_ROLE: 'worker' }), { role: 'worker', problems: [] });
});

test('the older PAYWARDEN_RUN_WORKERS=false means api; agreeing with PAYWARDEN_ROLE is accepted', () => {
  assert.deepEqual(role({ PAYWARDEN_RUN_WORKERS: 'false' }), { role: 'api', problems: [] });
  assert.deepEqual(role({ PAYWARDEN_RUN_WORKERS: 'true' }), { role: 'all', problems: [] });
  assert.deepEqual(role({ PAYWARDEN_ROLE: 'api', PAYWARDEN_RUN_WORKERS: 'false' }), { role: 'api', problems: [] });
});

test('an unknown role or a contradiction is a configuration problem, named', () => {
  assert.match(role({ PAYWARDEN_ROLE: 'scheduler' }).problems.join(), /must be one of all, api, worker/);
  assert.match(
    role({ PAYWARDEN_ROLE: 'worker', PAYWARDEN_RUN_WORKERS: 'false' }).problems.join(),
    /contradicts PAYWARDEN_ROLE=worker/,
  );
  assert.match(role({ PAYWARDEN_ROLE: 'api', PAYWARDEN_RUN_WORKERS: 'yes' }).problems.join(), /contradicts/);
});
