import type { Mode } from '../db/schema.ts';
import type { PaymentProvider, ProviderWebhookHandler } from './types.ts';

/** Adapters per mode: test-mode adapters talk to simulators or provider sandboxes, live ones to
 * the real providers, and a test key can never reach a live adapter (API-2). */
export interface ProviderRegistry {
  payment(mode: Mode, name: string): PaymentProvider | undefined;
  /** The provider a payment in this currency goes to when the merchant does not name one. */
  route(mode: Mode, currency: string): PaymentProvider | undefined;
  webhook(name: string): ProviderWebhookHandler | undefined;
}

export function createProviderRegistry(input: { test: readonly PaymentProvider[]; live: readonly PaymentProvider[]; webhooks: readonly ProviderWebhookHandler[] }): ProviderRegistry {
  const byMode = { test: input.test, live: input.live };
  return {
    payment: (mode, name) => byMode[mode].find((p) => p.name === name),
    route: (mode, currency) => byMode[mode].find((p) => p.currencies.includes(currency)),
    webhook: (name) => input.webhooks.find((w) => w.name === name),
  };
}
