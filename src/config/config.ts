import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isAbsolute, join, resolve } from 'node:path';
import { Secret } from '../crypto/secret.ts';
import { readBool, readInt, readSecret, readVar, type Env } from './env.ts';
import { readHttpLimits, type HttpLimits } from './http-limits.ts';
import { parseCidrList, type Cidr } from '../net/addresses.ts';
import { parseHostList, type HostEntry } from '../net/host-allowlist.ts';
import { DEFAULT_ROUTING, PROVIDER_SPECS, providerSpec, type ProviderSpec } from '../providers/catalogue.ts';
import { DEFAULT_WORKER_OPTIONS } from '../jobs/worker.ts';
import { readRole, runsWorkers, type ProcessRole } from './role.ts';

export type Mode = 'test' | 'live';

export interface ProviderCredentials {
  /** Keyed by the catalogue's credential fields (secretKey, secretHash, ...). */
  readonly credentials: Readonly<Record<string, Secret>>;
  /** undefined in test mode means "start the embedded simulator and use it". */
  readonly baseUrl: string | undefined;
}

export interface ProviderConfig {
  readonly test: ProviderCredentials;
  /** Present when live mode is enabled and this provider is among PAYWARDEN_LIVE_PROVIDERS. */
  readonly live: ProviderCredentials | undefined;
  readonly rateLimitPerMinute: { readonly test: number; readonly live: number };
  /** Live-mode webhooks are accepted only from these addresses; undefined means any (WHI-9). */
  readonly webhookIpAllowlist: readonly Cidr[] | undefined;
  /** `<PREFIX>_WEBHOOK_REQUIRE_SIGNATURE`: only a body HMAC authenticates a webhook, never a static header. */
  readonly webhookRequireSignature: boolean;
}

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly publicUrl: string;
  readonly dataDir: string;
  /** Erasures, kept outside the database so a restore re-applies them (src/privacy/erasure-journal.ts). */
  readonly erasureJournalPath: string;
  readonly databaseUrl: string;
  readonly redisUrl: string | undefined;
  readonly masterKey: Secret;
  /** PAYWARDEN_MASTER_KEY_PREVIOUS (or _FILE) during a rotation: opens what it wrapped, wraps nothing. */
  readonly previousMasterKeys: readonly Secret[];
  /** LOG-4: the Ed25519 seed (32 bytes, base64) that signs audit checkpoints (src/audit/signing-key.ts). */
  readonly auditSigningKey: Secret;
  readonly liveEnabled: boolean;
  readonly tls:
    | { readonly certFile: string; readonly keyFile: string; readonly minVersion: 'TLSv1.2' | 'TLSv1.3' }
    | undefined;
  /** PAYWARDEN_TRUSTED_PROXY: only from these is X-Forwarded-For believed. */
  readonly trustedProxy: readonly Cidr[] | undefined;
  /** Timeouts, connection cap and load shedding of the HTTP server (issue 16 §1). */
  readonly http: HttpLimits;
  readonly logLevel: string;
  readonly simulatorPort: number;
  readonly paymentExpirySeconds: number;
  readonly reconcileScheduleSeconds: readonly number[];
  /** Payouts (src/payouts/engine.ts): how long "not found" after a send proves nothing; undefined: each provider's own (30 min). */
  readonly payoutNotFoundGraceSeconds: number | undefined;
  /** When open payouts are asked about again, after each look; undefined: the engine's default. */
  readonly payoutCheckScheduleSeconds: readonly number[] | undefined;
  /** Payout files (OPS-10): the most bytes and payout rows one file may have. */
  readonly payoutFileMaxBytes: number;
  readonly payoutFileMaxRows: number;
  /** How often the reconciliation sweeps run. */
  readonly sweepIntervalSeconds: number;
  readonly workerConcurrency: number;
  /** PAYWARDEN_ROLE (src/config/role.ts): all, api or worker; PostgreSQL deployments split ingest from work. */
  readonly role: ProcessRole;
  /** false for API-only processes (role api). */
  readonly runWorkers: boolean;
  /** How long a claimed job is reserved; after a crash, its jobs run again once this lapses. */
  readonly jobLeaseSeconds: number;
  /** Per API key (API-8). */
  readonly apiRateLimitPerMinute: number;
  /** Bank lists and account resolutions per API key (they reach the provider). */
  readonly lookupRateLimitPerMinute: number;
  /** Operator dashboard sessions (OPS-6): at most 15 minutes idle and 10 hours in all. */
  readonly dashboardIdleTimeoutMinutes: number;
  readonly dashboardSessionMaxMinutes: number;
  /** Sign-in attempts (each password or code submitted) per client address per 15 minutes (OPS-3). */
  readonly dashboardLoginAttemptsPerIp: number;
  /** OPS-11: when set, the dashboard answers only clients in these addresses or CIDR ranges. */
  readonly dashboardAllowedNetworks: readonly Cidr[] | undefined;
  /** Issue 16: the host names the dashboard answers at (src/dashboard/host-allowlist.ts); unset: the public URL's. */
  readonly dashboardHosts: readonly HostEntry[] | undefined;
  /** API-1: browser origins (`https://shop.example`) that may use publishable keys; none by default. */
  readonly publishableKeyOrigins: readonly string[];
  /** With live mode enabled, test-mode webhook endpoints may point at loopback and these only (SSRF). */
  readonly testWebhookAllowedNetworks: readonly Cidr[] | undefined;
  readonly providers: Readonly<Record<string, ProviderConfig>>;
  /** Currency -> provider name, for payments that name no provider. */
  readonly routing: Readonly<Record<string, string>>;
}

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Paywarden cannot start; fix the configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/**
 * Parses and validates the environment once. Every problem is collected so the operator fixes
 * them in one pass instead of one restart per mistake. Test-mode secrets that are not configured
 * are generated into the data directory (0600) so `npm start` works with no setup at all.
 */
export function loadConfig(env: Env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const role = readRole(env, problems);
  const dataDir = resolvePath(readVar(env, 'PAYWARDEN_DATA_DIR', problems) ?? 'data', cwd);
  const host = readVar(env, 'PAYWARDEN_HOST', problems) ?? '127.0.0.1';
  const port = readInt(env, 'PAYWARDEN_PORT', 8080, 0, 65535, problems);
  const liveEnabled = readBool(env, 'PAYWARDEN_LIVE_ENABLED', false, problems);
  const databaseUrl = readVar(env, 'PAYWARDEN_DATABASE_URL', problems) ?? join(dataDir, 'paywarden.sqlite');
  const logLevel = readVar(env, 'PAYWARDEN_LOG_LEVEL', problems) ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(
      `PAYWARDEN_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "${logLevel}")`,
    );
  }

  let masterKey = readSecret(env, 'PAYWARDEN_MASTER_KEY', problems);
  if (masterKey !== undefined && Buffer.from(masterKey.reveal(), 'base64').length < 32) {
    problems.push('PAYWARDEN_MASTER_KEY must be at least 32 random bytes, base64-encoded (openssl rand -base64 32)');
  }
  if (masterKey === undefined) {
    if (liveEnabled) problems.push('PAYWARDEN_MASTER_KEY (or PAYWARDEN_MASTER_KEY_FILE) is required in live mode');
    else masterKey = generatedSecret(dataDir, 'master.key', () => randomBytes(32).toString('base64'));
  }

  // During a master-key rotation (docs/personal-data.md): the version before, which only opens.
  const previousMasterKey = readSecret(env, 'PAYWARDEN_MASTER_KEY_PREVIOUS', problems);
  if (previousMasterKey !== undefined && Buffer.from(previousMasterKey.reveal(), 'base64').length < 32)
    problems.push('PAYWARDEN_MASTER_KEY_PREVIOUS must be at least 32 random bytes, base64-encoded');

  let auditSigningKey = readSecret(env, 'PAYWARDEN_AUDIT_SIGNING_KEY', problems);
  if (auditSigningKey !== undefined && Buffer.from(auditSigningKey.reveal(), 'base64').length !== 32) {
    problems.push('PAYWARDEN_AUDIT_SIGNING_KEY must be 32 random bytes, base64-encoded (openssl rand -base64 32)');
  }
  if (auditSigningKey === undefined) {
    if (liveEnabled)
      problems.push('PAYWARDEN_AUDIT_SIGNING_KEY (or PAYWARDEN_AUDIT_SIGNING_KEY_FILE) is required in live mode');
    else auditSigningKey = generatedSecret(dataDir, 'audit-signing.key', () => randomBytes(32).toString('base64'));
  }

  const certFile = readVar(env, 'PAYWARDEN_TLS_CERT_FILE', problems);
  const keyFile = readVar(env, 'PAYWARDEN_TLS_KEY_FILE', problems);
  const tlsMin = readVar(env, 'PAYWARDEN_TLS_MIN_VERSION', problems) ?? 'TLSv1.2';
  if (tlsMin !== 'TLSv1.2' && tlsMin !== 'TLSv1.3')
    problems.push('PAYWARDEN_TLS_MIN_VERSION must be TLSv1.2 or TLSv1.3 (NET-1)');
  if ((certFile === undefined) !== (keyFile === undefined))
    problems.push('set both PAYWARDEN_TLS_CERT_FILE and PAYWARDEN_TLS_KEY_FILE, or neither');
  for (const file of [certFile, keyFile])
    if (file !== undefined && !existsSync(file)) problems.push(`TLS file ${file} does not exist`);
  const tls =
    certFile !== undefined && keyFile !== undefined
      ? { certFile, keyFile, minVersion: tlsMin === 'TLSv1.3' ? ('TLSv1.3' as const) : ('TLSv1.2' as const) }
      : undefined;
  const trustedProxy = cidrList(env, 'PAYWARDEN_TRUSTED_PROXY', problems);
  if (liveEnabled && tls === undefined && trustedProxy === undefined) {
    problems.push(
      'live mode needs TLS: set PAYWARDEN_TLS_CERT_FILE and PAYWARDEN_TLS_KEY_FILE, or PAYWARDEN_TRUSTED_PROXY for a TLS-terminating proxy (NET-1)',
    );
  }

  const scheduleRaw = readVar(env, 'PAYWARDEN_RECONCILE_SCHEDULE_SECONDS', problems) ?? '600,3600,21600,86400';
  const reconcileScheduleSeconds = scheduleRaw.split(',').map((s) => Number(s.trim()));
  if (reconcileScheduleSeconds.some((n) => !Number.isInteger(n) || n < 1)) {
    problems.push(
      'PAYWARDEN_RECONCILE_SCHEDULE_SECONDS must be a comma-separated list of whole seconds, e.g. 600,3600,21600,86400',
    );
  }

  const graceRaw = readVar(env, 'PAYWARDEN_PAYOUT_NOT_FOUND_GRACE_SECONDS', problems);
  const payoutNotFoundGraceSeconds = graceRaw === undefined ? undefined : Number(graceRaw);
  if (
    payoutNotFoundGraceSeconds !== undefined &&
    (!Number.isInteger(payoutNotFoundGraceSeconds) || payoutNotFoundGraceSeconds < 1)
  )
    problems.push('PAYWARDEN_PAYOUT_NOT_FOUND_GRACE_SECONDS must be whole seconds, at least 1');
  const payoutScheduleRaw = readVar(env, 'PAYWARDEN_PAYOUT_CHECK_SCHEDULE_SECONDS', problems);
  const payoutCheckScheduleSeconds = payoutScheduleRaw?.split(',').map((s) => Number(s.trim()));
  if (payoutCheckScheduleSeconds?.some((n) => !Number.isInteger(n) || n < 1))
    problems.push(
      'PAYWARDEN_PAYOUT_CHECK_SCHEDULE_SECONDS must be a comma-separated list of whole seconds, e.g. 30,120,600',
    );

  const liveProviders = (readVar(env, 'PAYWARDEN_LIVE_PROVIDERS', problems) ?? 'flutterwave')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of liveProviders)
    if (providerSpec(name) === undefined)
      problems.push(
        `PAYWARDEN_LIVE_PROVIDERS names "${name}"; known providers: ${PROVIDER_SPECS.map((p) => p.name).join(', ')}`,
      );
  const rateOverride = {
    test:
      readVar(env, 'PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE', problems) === undefined
        ? undefined
        : readInt(env, 'PAYWARDEN_PROVIDER_RATE_LIMIT_TEST_PER_MINUTE', 600, 1, 1_000_000_000, problems),
    live:
      readVar(env, 'PAYWARDEN_PROVIDER_RATE_LIMIT_LIVE_PER_MINUTE', problems) === undefined
        ? undefined
        : readInt(env, 'PAYWARDEN_PROVIDER_RATE_LIMIT_LIVE_PER_MINUTE', 240, 1, 1_000_000_000, problems),
  };
  const providers: Record<string, ProviderConfig> = {};
  for (const spec of PROVIDER_SPECS) {
    providers[spec.name] = {
      test: testCredentials(spec, env, dataDir, problems),
      live: liveEnabled && liveProviders.includes(spec.name) ? liveCredentials(spec, env, problems) : undefined,
      rateLimitPerMinute: {
        test: rateOverride.test ?? spec.rateLimitPerMinute.test,
        live: rateOverride.live ?? spec.rateLimitPerMinute.live,
      },
      webhookIpAllowlist: ipAllowlist(spec, env, problems),
      // Off by default: Flutterwave accounts without the newer webhook option send only the static
      // verif-hash, and requiring the HMAC would refuse all their webhooks. A webhook never gives
      // value (the verify API does), so a forged static header costs one verify call.
      webhookRequireSignature:
        spec.staticWebhookHeader === true
          ? readBool(env, `${spec.envPrefix}_WEBHOOK_REQUIRE_SIGNATURE`, false, problems)
          : true,
    };
  }
  const routing = parseRouting(readVar(env, 'PAYWARDEN_ROUTING', problems) ?? DEFAULT_ROUTING, problems);

  const config: Config = {
    host,
    port,
    publicUrl:
      // With TLS here, the default is https: an http default sent the embedded simulators'
      // webhooks to a listener that speaks only TLS, and payments stayed pending.
      readVar(env, 'PAYWARDEN_PUBLIC_URL', problems) ??
      `${tls === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    dataDir,
    erasureJournalPath: resolvePath(
      readVar(env, 'PAYWARDEN_ERASURE_JOURNAL', problems) ?? join(dataDir, 'erasure-journal.jsonl'),
      cwd,
    ),
    databaseUrl,
    redisUrl: readVar(env, 'PAYWARDEN_REDIS_URL', problems),
    masterKey: masterKey ?? new Secret(''),
    previousMasterKeys: previousMasterKey === undefined ? [] : [previousMasterKey],
    auditSigningKey: auditSigningKey ?? new Secret(''),
    liveEnabled,
    tls,
    trustedProxy,
    http: readHttpLimits(env, problems),
    logLevel,
    simulatorPort: readInt(env, 'PAYWARDEN_SIMULATOR_PORT', 4010, 0, 65535, problems),
    paymentExpirySeconds: readInt(env, 'PAYWARDEN_PAYMENT_EXPIRY_SECONDS', 86_400, 60, 30 * 86_400, problems),
    reconcileScheduleSeconds,
    payoutNotFoundGraceSeconds,
    payoutCheckScheduleSeconds,
    payoutFileMaxBytes: readInt(env, 'PAYWARDEN_PAYOUT_FILE_MAX_BYTES', 1_048_576, 1024, 16 * 1_048_576, problems),
    payoutFileMaxRows: readInt(env, 'PAYWARDEN_PAYOUT_FILE_MAX_ROWS', 1_000, 1, 20_000, problems),
    sweepIntervalSeconds: readInt(env, 'PAYWARDEN_SWEEP_INTERVAL_SECONDS', 30, 1, 3600, problems),
    workerConcurrency: readInt(
      env,
      'PAYWARDEN_WORKER_CONCURRENCY',
      DEFAULT_WORKER_OPTIONS.concurrency,
      1,
      256,
      problems,
    ),
    role,
    runWorkers: runsWorkers(role),
    jobLeaseSeconds: readInt(
      env,
      'PAYWARDEN_JOB_LEASE_SECONDS',
      DEFAULT_WORKER_OPTIONS.leaseMs / 1000,
      2,
      3600,
      problems,
    ),
    apiRateLimitPerMinute: readInt(env, 'PAYWARDEN_API_RATE_LIMIT_PER_MINUTE', 6000, 1, 1_000_000_000, problems),
    lookupRateLimitPerMinute: readInt(env, 'PAYWARDEN_LOOKUP_RATE_LIMIT_PER_MINUTE', 60, 1, 1_000_000, problems),
    // The maxima are the adopted OPS-6 limits: the timeouts can be shortened, never lengthened.
    dashboardIdleTimeoutMinutes: readInt(env, 'PAYWARDEN_DASHBOARD_IDLE_TIMEOUT_MINUTES', 15, 1, 15, problems),
    dashboardSessionMaxMinutes: readInt(env, 'PAYWARDEN_DASHBOARD_SESSION_MAX_MINUTES', 600, 5, 600, problems),
    dashboardLoginAttemptsPerIp: readInt(env, 'PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP', 30, 1, 100_000, problems),
    dashboardAllowedNetworks: cidrList(env, 'PAYWARDEN_DASHBOARD_ALLOWED_NETWORKS', problems),
    dashboardHosts: optionalHostList(env, problems),
    publishableKeyOrigins: originList(env, 'PAYWARDEN_PUBLISHABLE_KEY_ORIGINS', liveEnabled, problems),
    testWebhookAllowedNetworks: cidrList(env, 'PAYWARDEN_TEST_WEBHOOK_ALLOWED_NETWORKS', problems),
    providers,
    routing,
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

function testCredentials(spec: ProviderSpec, env: Env, dataDir: string, problems: string[]): ProviderCredentials {
  const baseUrl = readVar(env, `${spec.envPrefix}_TEST_BASE_URL`, problems);
  const credentials: Record<string, Secret> = {};
  const missing: string[] = [];
  for (const credential of spec.credentials) {
    const name = `${spec.envPrefix}_TEST_${credential.env}`;
    const value = readSecret(env, name, problems);
    if (value === undefined && credential.optional !== true) missing.push(name);
    // An optional credential a real sandbox was not given stays unset (its feature is off there).
    if (value === undefined && credential.optional === true && baseUrl !== undefined) continue;
    // With the embedded simulator nothing outside this machine ever sees generated values.
    credentials[credential.field] =
      value ?? generatedSecret(dataDir, `${spec.name}-simulator.${credential.field}`, credential.generateTest);
  }
  if (baseUrl !== undefined && missing.length > 0)
    problems.push(
      `${spec.envPrefix}_TEST_BASE_URL is set, so ${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} required too`,
    );
  return { baseUrl, credentials };
}

function liveCredentials(spec: ProviderSpec, env: Env, problems: string[]): ProviderCredentials | undefined {
  const baseUrl = readVar(env, `${spec.envPrefix}_LIVE_BASE_URL`, problems) ?? spec.liveBaseUrl;
  if (!baseUrl.startsWith('https://')) problems.push(`${spec.envPrefix}_LIVE_BASE_URL must use https (API-11)`);
  const credentials: Record<string, Secret> = {};
  let complete = true;
  for (const credential of spec.credentials) {
    const name = `${spec.envPrefix}_LIVE_${credential.env}`;
    const value = readSecret(env, name, problems);
    if (value === undefined && credential.optional === true) continue;
    if (value === undefined) {
      problems.push(`${name} is required in live mode (API-1)`);
      complete = false;
      continue;
    }
    const problem = credential.liveProblem?.(value.reveal());
    if (problem !== undefined) problems.push(`${name} ${problem}`);
    credentials[credential.field] = value;
  }
  return complete ? { baseUrl, credentials } : undefined;
}

/** Comma-separated addresses or CIDR ranges, IPv4 and IPv6 (OPS-11, trusted proxies). */
/** Comma-separated exact origins (scheme, host, optional port; no path); https unless on loopback in test mode. */
function originList(env: Env, name: string, liveEnabled: boolean, problems: string[]): readonly string[] {
  const raw = readVar(env, name, problems);
  if (raw === undefined || raw.trim() === '') return [];
  const origins: string[] = [];
  for (const entry of raw.split(',').map((o) => o.trim())) {
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    const loopback = url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    if (url === undefined || url.origin !== entry || !['https:', 'http:'].includes(url.protocol))
      problems.push(`${name}: ${JSON.stringify(entry.slice(0, 80))} is not an origin like https://shop.example`);
    else if (url.protocol === 'http:' && (liveEnabled || !loopback))
      problems.push(`${name}: ${entry} must use https (http only for localhost in test mode)`);
    else origins.push(entry);
  }
  return origins;
}

function optionalHostList(env: Env, problems: string[]): readonly HostEntry[] | undefined {
  const raw = readVar(env, 'PAYWARDEN_DASHBOARD_HOSTS', problems);
  return raw === undefined ? undefined : parseHostList(raw, problems, 'PAYWARDEN_DASHBOARD_HOSTS');
}

function cidrList(env: Env, name: string, problems: string[]): readonly Cidr[] | undefined {
  const raw = readVar(env, name, problems);
  if (raw === undefined) return undefined;
  const parsed = parseCidrList(raw);
  if (!parsed.ok) problems.push(...parsed.problems.map((p) => `${name}: ${p}`));
  return parsed.ok ? parsed.cidrs : undefined;
}

/** `<PREFIX>_WEBHOOK_IP_ALLOWLIST`: addresses or CIDR ranges, or `off`; default the provider's published list, if any. */
function ipAllowlist(spec: ProviderSpec, env: Env, problems: string[]): readonly Cidr[] | undefined {
  const name = `${spec.envPrefix}_WEBHOOK_IP_ALLOWLIST`;
  const raw = readVar(env, name, problems);
  if (raw?.trim() === 'off') return undefined;
  if (raw === undefined) {
    const published = spec.webhookSourceIps === undefined ? undefined : parseCidrList(spec.webhookSourceIps.join(','));
    return published?.ok === true ? published.cidrs : undefined;
  }
  return cidrList(env, name, problems);
}

function parseRouting(raw: string, problems: string[]): Record<string, string> {
  const routing: Record<string, string> = {};
  for (const entry of raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')) {
    const [currency, provider] = entry.split(':').map((s) => s.trim());
    if (
      currency === undefined ||
      provider === undefined ||
      !/^[A-Z]{3}$/.test(currency) ||
      providerSpec(provider) === undefined
    ) {
      problems.push(`PAYWARDEN_ROUTING entry "${entry}" must be CURRENCY:provider, e.g. NGN:flutterwave`);
      continue;
    }
    routing[currency] = provider;
  }
  return routing;
}

function generatedSecret(dataDir: string, fileName: string, generate: () => string): Secret {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, fileName);
  if (!existsSync(path)) writeFileSync(path, generate(), { mode: 0o600, flag: 'wx' });
  return new Secret(readFileSync(path, 'utf8').trim());
}

function resolvePath(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
