// What the configuration needs to know about each provider, as data: its environment variable
// prefix, its credentials (how to generate a test value for the local simulator, and what makes a
// live value unacceptable), its live base URL and its outbound budgets. Adding a provider adds an
// entry here and one in factories.ts (see docs/adding-a-provider.md).
import { randomBytes } from 'node:crypto';
import { PAYSTACK_WEBHOOK_IPS } from './paystack/webhook.ts';

export interface CredentialSpec {
  /** The field name the provider's factory reads. */
  readonly field: string;
  /** NAME in `<PREFIX>_TEST_<NAME>` and `<PREFIX>_LIVE_<NAME>` (each also as `_FILE`). */
  readonly env: string;
  /** A value for the embedded simulator; never leaves this machine. */
  readonly generateTest: () => string;
  /** Why a value cannot be used in live mode, if it cannot. */
  readonly liveProblem?: (value: string) => string | undefined;
  /** Not needed for collections (KwikPaisa's payout wallet): missing in live mode is no error. */
  readonly optional?: boolean;
}

export interface ProviderSpec {
  readonly name: string;
  readonly envPrefix: string;
  readonly liveBaseUrl: string;
  readonly credentials: readonly CredentialSpec[];
  /** Outbound calls per minute by default (COL-3); PAYWARDEN_PROVIDER_RATE_LIMIT_* override. */
  readonly rateLimitPerMinute: { readonly test: number; readonly live: number };
  /** Source addresses the provider publishes for its webhooks (WHI-9), enforced in live mode. */
  readonly webhookSourceIps?: readonly string[];
  /**
   * The provider may authenticate webhooks with a static header (Flutterwave's verif-hash) as well
   * as a body HMAC; `<PREFIX>_WEBHOOK_REQUIRE_SIGNATURE=true` accepts only the HMAC.
   */
  readonly staticWebhookHeader?: boolean;
}

const LOOKS_LIKE_TEST = /test|example|changeme|dummy|sample/i;
const notTest = (what: string) => (value: string) =>
  LOOKS_LIKE_TEST.test(value) ? `looks like a test ${what}; live mode needs a live one (API-2)` : undefined;
const random = (minLength: number, what: string) => (value: string) =>
  value.length < minLength || LOOKS_LIKE_TEST.test(value)
    ? `must be a random ${what} of at least ${minLength} characters`
    : undefined;

export const PROVIDER_SPECS: readonly ProviderSpec[] = [
  {
    name: 'flutterwave',
    envPrefix: 'FLUTTERWAVE',
    liveBaseUrl: 'https://api.flutterwave.com',
    // Flutterwave publishes no v3 limits; the live default stays under the legacy v2 figure of
    // 300 verifies a minute.
    rateLimitPerMinute: { test: 600, live: 240 },
    staticWebhookHeader: true,
    credentials: [
      {
        field: 'secretKey',
        env: 'SECRET_KEY',
        generateTest: () => `FLWSECK_TEST-${randomBytes(16).toString('hex')}-X`,
        liveProblem: notTest('key'),
      },
      {
        field: 'secretHash',
        env: 'SECRET_HASH',
        generateTest: () => randomBytes(24).toString('base64url'),
        liveProblem: random(16, 'value'),
      },
    ],
  },
  {
    name: 'kwikpaisa',
    envPrefix: 'KWIKPAISA',
    liveBaseUrl: 'https://api.kwikpaisa.com',
    // KwikPaisa documents no limits; conservative defaults.
    rateLimitPerMinute: { test: 300, live: 120 },
    credentials: [
      {
        field: 'apiKey',
        env: 'API_KEY',
        generateTest: () => `kp_test_${randomBytes(12).toString('hex')}`,
        liveProblem: notTest('API key'),
      },
      {
        field: 'secretKey',
        env: 'SECRET_KEY',
        generateTest: () => randomBytes(24).toString('base64url'),
        liveProblem: random(16, 'secret'),
      },
      // Payouts only (issue 9): the wallet they are paid from and the contact number the create
      // call requires. Without both, KwikPaisa collects but does not pay out.
      {
        field: 'walletId',
        env: 'WALLET_ID',
        generateTest: () => `kwx_test_${randomBytes(8).toString('hex')}`,
        liveProblem: notTest('wallet id'),
        optional: true,
      },
      {
        field: 'payoutMobile',
        env: 'PAYOUT_MOBILE',
        generateTest: () => '9000000000',
        liveProblem: (value) => (/^\+?\d{7,15}$/.test(value) ? undefined : 'must be a phone number (7 to 15 digits)'),
        optional: true,
      },
    ],
  },
  {
    name: 'paystack',
    envPrefix: 'PAYSTACK',
    liveBaseUrl: 'https://api.paystack.co',
    // Paystack's guidance: 600 calls a minute live, 100 in test.
    rateLimitPerMinute: { test: 100, live: 600 },
    webhookSourceIps: PAYSTACK_WEBHOOK_IPS,
    credentials: [
      // The secret key also signs Paystack's webhooks (x-paystack-signature).
      {
        field: 'secretKey',
        env: 'SECRET_KEY',
        generateTest: () => `sk_test_${randomBytes(20).toString('hex')}`,
        liveProblem: (value) =>
          value.startsWith('sk_live_') ? undefined : 'must be a live secret key (sk_live_...) (API-2)',
      },
    ],
  },
  {
    name: 'stripe',
    envPrefix: 'STRIPE',
    liveBaseUrl: 'https://api.stripe.com',
    // Stripe's documented live limit is 100 read and 100 write operations a second; these budgets
    // stay far below it, and its test mode allows 25 a second.
    rateLimitPerMinute: { test: 600, live: 1200 },
    credentials: [
      {
        field: 'secretKey',
        env: 'SECRET_KEY',
        generateTest: () => `sk_test_${randomBytes(24).toString('hex')}`,
        liveProblem: (value) =>
          value.startsWith('sk_live_') || value.startsWith('rk_live_')
            ? undefined
            : 'must be a live secret or restricted key (sk_live_ or rk_live_) (API-2)',
      },
      {
        field: 'webhookSecret',
        env: 'WEBHOOK_SECRET',
        generateTest: () => `whsec_${randomBytes(24).toString('base64')}`,
        liveProblem: (value) =>
          value.startsWith('whsec_') && value.length >= 20
            ? undefined
            : 'must be the endpoint signing secret (whsec_...)',
      },
    ],
  },
];

export function providerSpec(name: string): ProviderSpec | undefined {
  return PROVIDER_SPECS.find((spec) => spec.name === name);
}

/** Which provider takes a currency when a payment names none (PAYWARDEN_ROUTING overrides). */
export const DEFAULT_ROUTING = 'NGN:flutterwave,KES:flutterwave,GHS:paystack,INR:kwikpaisa,USD:stripe,EUR:stripe';
