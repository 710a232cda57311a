// What the deployment's own environment says (the doctor runs with the same variables as the
// gateway): live mode on, live provider credentials that are not test values (API-1, API-2), a
// webhook signing secret for every live provider (WHI-1), a master key that is really random.
import { loadConfig, ConfigError, type Config } from '../config/config.ts';
import { readSecret, readVar, type Env } from '../config/env.ts';
import { PROVIDER_SPECS } from '../providers/catalogue.ts';
import { result, type CheckResult } from './check.ts';

/** The credential each provider signs its webhooks with (see src/providers/<name>/webhook.ts). */
export const WEBHOOK_SECRET_FIELD: Readonly<Record<string, string>> = {
  flutterwave: 'secretHash',
  kwikpaisa: 'secretKey',
  paystack: 'secretKey',
  stripe: 'webhookSecret',
};

export function configChecks(env: Env, cwd?: string): { results: CheckResult[]; config: Config | undefined } {
  const results: CheckResult[] = [];
  let config: Config | undefined;
  try {
    config = loadConfig(env, cwd);
    results.push(result('config.valid', 'API-1', 'pass', 'the configuration loads'));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    results.push(
      result(
        'config.valid',
        'API-1',
        'fail',
        `the gateway would refuse to start: ${error.problems.join('; ')}`,
        'fix each problem named (the same message `paywarden start` prints)',
      ),
    );
  }
  const problems: string[] = [];
  const liveEnabled = ['true', '1', 'yes'].includes(readVar(env, 'PAYWARDEN_LIVE_ENABLED', problems) ?? 'false');
  if (!liveEnabled) {
    results.push(
      result(
        'live.mode',
        'API-2',
        'fail',
        'live mode is off: this deployment takes test payments only',
        'set PAYWARDEN_LIVE_ENABLED=true with live provider credentials when going live',
      ),
    );
    return { results, config };
  }
  results.push(result('live.mode', 'API-2', 'pass', 'live mode is enabled'));
  results.push(...liveProviderChecks(env));
  results.push(masterKeyCheck(env));
  return { results, config };
}

function liveProviders(env: Env): string[] {
  return (readVar(env, 'PAYWARDEN_LIVE_PROVIDERS', []) ?? 'flutterwave')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function liveProviderChecks(env: Env): CheckResult[] {
  const results: CheckResult[] = [];
  for (const name of liveProviders(env)) {
    const spec = PROVIDER_SPECS.find((s) => s.name === name);
    if (spec === undefined) continue; // config.valid names it
    const bad: string[] = [];
    for (const credential of spec.credentials) {
      const variable = `${spec.envPrefix}_LIVE_${credential.env}`;
      const value = readSecret(env, variable, []);
      if (value === undefined) bad.push(`${variable} is not set`);
      else {
        const problem = credential.liveProblem?.(value.reveal());
        if (problem !== undefined) bad.push(`${variable} ${problem}`);
      }
    }
    results.push(
      bad.length > 0
        ? result(
            `live.credentials.${name}`,
            'API-1, API-2',
            'fail',
            bad.join('; '),
            `set ${name}'s live credentials from its dashboard (environment or *_FILE)`,
          )
        : result(
            `live.credentials.${name}`,
            'API-1, API-2',
            'pass',
            `${name}: live credentials set, none a test value`,
          ),
    );
    const field = WEBHOOK_SECRET_FIELD[name];
    const credential = spec.credentials.find((c) => c.field === field);
    if (credential === undefined) {
      results.push(
        result(
          `live.webhook-secret.${name}`,
          'WHI-1',
          'warn',
          `doctor does not know which credential signs ${name}'s webhooks`,
        ),
      );
      continue;
    }
    const variable = `${spec.envPrefix}_LIVE_${credential.env}`;
    results.push(
      readSecret(env, variable, []) === undefined
        ? result(
            `live.webhook-secret.${name}`,
            'WHI-1',
            'fail',
            `${variable} is not set, so ${name}'s live webhooks cannot be verified`,
            `copy the webhook secret from ${name}'s dashboard into ${variable}`,
          )
        : result(`live.webhook-secret.${name}`, 'WHI-1', 'pass', `${name}'s webhook signing secret is set`),
    );
  }
  return results;
}

/** A master key someone typed (all one byte, a short repeated pattern) is not 32 random bytes. */
function masterKeyCheck(env: Env): CheckResult {
  const key = readSecret(env, 'PAYWARDEN_MASTER_KEY', []);
  if (key === undefined)
    return result(
      'secrets.master-key',
      'API-1, DAT-1',
      'fail',
      'PAYWARDEN_MASTER_KEY is not set (live mode refuses the generated file)',
      'generate one: openssl rand -base64 32, and keep it in your secret store',
    );
  const bytes = Buffer.from(key.reveal(), 'base64');
  const distinct = new Set(bytes).size;
  if (bytes.length < 32 || distinct < 16 || /test|example|changeme/i.test(key.reveal()))
    return result(
      'secrets.master-key',
      'API-1, DAT-1',
      'fail',
      `PAYWARDEN_MASTER_KEY is not 32 random bytes (${bytes.length} bytes, ${distinct} distinct values)`,
      'generate one: openssl rand -base64 32 (re-sealing existing secrets needs the old key)',
    );
  return result('secrets.master-key', 'API-1, DAT-1', 'pass', 'the master key is 32+ bytes that look random');
}
