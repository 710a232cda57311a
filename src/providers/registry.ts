import type { Mode } from '../db/schema.ts';
import type { PayoutProvider } from './payout-types.ts';
import type { BeneficiaryLookup, PaymentProvider, ProviderWebhookHandler } from './types.ts';

/** Adapters per mode: test-mode adapters talk to simulators or provider sandboxes, live ones to
 * the real providers, and a test key can never reach a live adapter (API-2). */
export interface ProviderRegistry {
  payment(mode: Mode, name: string): PaymentProvider | undefined;
  /** The provider a payment in this currency goes to when the merchant does not name one. */
  route(mode: Mode, currency: string): PaymentProvider | undefined;
  webhook(name: string): ProviderWebhookHandler | undefined;
  /** The provider that serves bank look-ups for a country (or the one named). */
  beneficiaries(mode: Mode, country: string, name?: string): { name: string; lookup: BeneficiaryLookup } | undefined;
  /** The payout adapter of the provider named, when it pays out in this mode. */
  payouts(mode: Mode, name: string): PayoutProvider | undefined;
  /**
   * The provider a payout in this currency goes to when the merchant names none: the routing
   * table's choice if it pays out in the currency, otherwise any that does. Chosen once, when the
   * payout is created; never changed after an indefinite answer (no failover, PAY-1).
   */
  routePayout(mode: Mode, currency: string): PayoutProvider | undefined;
}

export function createProviderRegistry(input: {
  test: readonly PaymentProvider[];
  live: readonly PaymentProvider[];
  webhooks: readonly ProviderWebhookHandler[];
  routing?: Readonly<Record<string, string>>;
}): ProviderRegistry {
  const byMode = { test: input.test, live: input.live };
  return {
    payment: (mode, name) => byMode[mode].find((p) => p.name === name),
    // The routing table first; if the provider it names is not configured in this mode (or does
    // not take the currency), any configured provider that does.
    route: (mode, currency) => {
      const routed = input.routing?.[currency];
      const preferred =
        routed === undefined
          ? undefined
          : byMode[mode].find((p) => p.name === routed && p.currencies.includes(currency));
      return preferred ?? byMode[mode].find((p) => p.currencies.includes(currency));
    },
    webhook: (name) => input.webhooks.find((w) => w.name === name),
    beneficiaries: (mode, country, name) => {
      const provider = byMode[mode].find(
        (p) => (name === undefined || p.name === name) && p.beneficiaries?.countries.includes(country) === true,
      );
      return provider?.beneficiaries === undefined
        ? undefined
        : { name: provider.name, lookup: provider.beneficiaries };
    },
    payouts: (mode, name) => byMode[mode].find((p) => p.name === name)?.payouts,
    routePayout: (mode, currency) => {
      const routed = input.routing?.[currency];
      const pays = (p: PaymentProvider) => p.payouts?.currencies.includes(currency) === true;
      const preferred = byMode[mode].find((p) => p.name === routed && pays(p));
      return (preferred ?? byMode[mode].find(pays))?.payouts;
    },
  };
}
