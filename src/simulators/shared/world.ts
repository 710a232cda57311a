// What every simulator's state holds besides its own records: the injected faults, the log of
// webhooks sent, and settings. One rule for a reset, here instead of in each simulator: it empties
// the simulated world (the simulator's records, the faults, the log) and keeps the settings, which
// are the test's setup, not the world. Id counters are the simulator's to keep counting: a gateway
// that outlives the reset still holds the old ids.
import { createFaultStore, type FaultStore } from './faults.ts';
import type { WebhookLogEntry } from './webhook-poster.ts';

export interface CommonState<S> {
  readonly faults: FaultStore;
  readonly webhooks: WebhookLogEntry[];
  readonly settings: S;
}

/** `faults` for a simulator that stores fault scopes in its own form (Paystack's references). */
export function commonState<S extends { webhookUrl: string | undefined }>(
  settings: S,
  faults: FaultStore = createFaultStore(),
): CommonState<S> {
  return { faults, webhooks: [], settings };
}

/** Empties `records` (maps and arrays), the faults and the webhook log; settings stay. */
export function resetWorld(state: CommonState<unknown>, records: ReadonlyArray<{ clear(): void } | unknown[]>): void {
  for (const record of records) {
    if (Array.isArray(record)) record.length = 0;
    else record.clear();
  }
  state.faults.clear();
  state.webhooks.length = 0;
}
