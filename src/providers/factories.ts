// How each provider's adapter, webhook verifier and simulator are built from its credentials.
// The catalogue (catalogue.ts) holds the data; this holds the code. One entry per provider.
import { systemClock, type Clock } from '../clock.ts';
import type { Secret } from '../crypto/secret.ts';
import type { Mode } from '../db/schema.ts';
import type { HttpClient } from '../http/outbound.ts';
import { startFlutterwaveSimulator } from '../simulators/flutterwave/simulator.ts';
import { createFlutterwaveProvider } from './flutterwave/flow.ts';
import { createFlutterwaveWebhookHandler } from './flutterwave/webhook.ts';
import type { PaymentProvider, ProviderWebhookHandler } from './types.ts';
import { createKwikPaisaProvider } from './kwikpaisa/flow.ts';
import { createKwikPaisaWebhookHandler } from './kwikpaisa/webhook.ts';
import { startKwikPaisaSimulator } from '../simulators/kwikpaisa/simulator.ts';
import { createPaystackProvider } from './paystack/flow.ts';
import { createPaystackWebhookHandler } from './paystack/webhook.ts';
import { startPaystackSimulator } from '../simulators/paystack/simulator.ts';
import { createStripeProvider } from './stripe/flow.ts';
import { createStripeWebhookHandler } from './stripe/webhook.ts';
import { startStripeSimulator } from '../simulators/stripe/simulator.ts';

export type Credentials = Readonly<Record<string, Secret>>;

export interface ProviderFactory {
  createProvider(input: { baseUrl: string; credentials: Credentials; http: HttpClient; clock: Clock }): PaymentProvider;
  createWebhookHandler(
    byMode: ReadonlyArray<{ mode: Mode; credentials: Credentials }>,
    clock: Clock,
    options?: { readonly requireSignature?: boolean },
  ): ProviderWebhookHandler;
  startSimulator(input: {
    credentials: Credentials;
    webhookUrl: string | undefined;
    port: number;
  }): Promise<{ url: string; close(): Promise<void> }>;
}

/** A credential the catalogue promises; its absence is a programming error, not a config one. */
export function credential(credentials: Credentials, field: string): Secret {
  const value = credentials[field];
  if (value === undefined) throw new Error(`missing credential ${field}`);
  return value;
}

export const PROVIDER_FACTORIES: Readonly<Record<string, ProviderFactory>> = {
  flutterwave: {
    createProvider: ({ baseUrl, credentials, http }) =>
      createFlutterwaveProvider({ baseUrl, secretKey: credential(credentials, 'secretKey'), http }),
    createWebhookHandler: (byMode, _clock, options) =>
      createFlutterwaveWebhookHandler(
        byMode.map(({ mode, credentials }) => ({ mode, secretHash: credential(credentials, 'secretHash') })),
        { requireSignature: options?.requireSignature === true },
      ),
    startSimulator: ({ credentials, webhookUrl, port }) =>
      startFlutterwaveSimulator({
        secretKey: credential(credentials, 'secretKey').reveal(),
        secretHash: credential(credentials, 'secretHash').reveal(),
        ...(webhookUrl === undefined ? {} : { webhookUrl }),
        host: '127.0.0.1',
        port,
      }),
  },
  // Signature timestamps are checked by the other party's clock, so they use the wall clock,
  // never the injected scheduling clock that tests move forward.
  kwikpaisa: {
    createProvider: ({ baseUrl, credentials, http }) =>
      createKwikPaisaProvider({
        baseUrl,
        apiKey: credential(credentials, 'apiKey'),
        secretKey: credential(credentials, 'secretKey'),
        ...(credentials.walletId === undefined || credentials.payoutMobile === undefined
          ? {}
          : { payoutAccount: { walletId: credentials.walletId, mobile: credentials.payoutMobile } }),
        http,
        clock: systemClock,
      }),
    createWebhookHandler: (byMode) =>
      createKwikPaisaWebhookHandler(
        byMode.map(({ mode, credentials }) => ({ mode, secretKey: credential(credentials, 'secretKey') })),
        systemClock,
      ),
    startSimulator: ({ credentials, webhookUrl, port }) =>
      startKwikPaisaSimulator({
        apiKey: credential(credentials, 'apiKey').reveal(),
        secretKey: credential(credentials, 'secretKey').reveal(),
        ...(credentials.walletId === undefined ? {} : { walletId: credentials.walletId.reveal() }),
        ...(webhookUrl === undefined ? {} : { webhookUrl }),
        host: '127.0.0.1',
        port,
      }),
  },
  paystack: {
    createProvider: ({ baseUrl, credentials, http }) =>
      createPaystackProvider({ baseUrl, secretKey: credential(credentials, 'secretKey'), http }),
    createWebhookHandler: (byMode) =>
      createPaystackWebhookHandler(
        byMode.map(({ mode, credentials }) => ({ mode, secretKey: credential(credentials, 'secretKey') })),
      ),
    startSimulator: ({ credentials, webhookUrl, port }) =>
      startPaystackSimulator({
        secretKey: credential(credentials, 'secretKey').reveal(),
        ...(webhookUrl === undefined ? {} : { webhookUrl }),
        host: '127.0.0.1',
        port,
      }),
  },
  stripe: {
    createProvider: ({ baseUrl, credentials, http }) =>
      createStripeProvider({ baseUrl, secretKey: credential(credentials, 'secretKey'), http }),
    createWebhookHandler: (byMode) =>
      createStripeWebhookHandler(
        byMode.map(({ mode, credentials }) => ({ mode, secret: credential(credentials, 'webhookSecret') })),
        systemClock,
      ),
    startSimulator: ({ credentials, webhookUrl, port }) =>
      startStripeSimulator({
        secretKey: credential(credentials, 'secretKey').reveal(),
        webhookSecret: credential(credentials, 'webhookSecret').reveal(),
        ...(webhookUrl === undefined ? {} : { webhookUrl }),
        host: '127.0.0.1',
        port,
      }),
  },
};
