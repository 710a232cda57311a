// A typed client for the simulator's /_sim/ control API, for tests (and scripts) that would
// otherwise hand-write fetch calls. Throws on any answer other than the one asked for.
import type { FaultName } from '../shared/faults.ts';
import type { WebhookLogEntry } from '../shared/webhook-poster.ts';
import type { SimulatorSettings, Transaction } from './state.ts';

export interface FaultSpec {
  readonly fault: FaultName;
  /** Only this payment (or transfer reference); any when absent. */
  readonly tx_ref?: string;
  /** Uses before it is spent (default 1; 0 = until cleared). */
  readonly times?: number;
  readonly value?: number;
}

export type LoggedWebhook = WebhookLogEntry;
export type CompletedTransaction = Transaction & { readonly redirect_url: string };

export class ControlApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown, what: string) {
    super(`${what} answered HTTP ${status}: ${JSON.stringify(body)}`);
    this.name = 'ControlApiError';
    this.status = status;
    this.body = body;
  }
}

export function createFlutterwaveControlClient(baseUrl: string) {
  const base = baseUrl.replace(/\/+$/, '');
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${base}/_sim${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const parsed: unknown = await response.json();
    if (!response.ok) throw new ControlApiError(response.status, parsed, `${method} /_sim${path}`);
    return parsed as T;
  }

  return {
    addFault: (fault: FaultSpec) => call<{ faults: unknown[] }>('POST', '/faults', fault),
    clearFaults: () => call<{ faults: [] }>('DELETE', '/faults'),
    /** Forgets checkouts, transactions, transfers, refunds, faults and the webhook log. */
    reset: () => call<{ reset: true }>('POST', '/reset'),
    configure: (settings: Partial<SimulatorSettings>) => call<SimulatorSettings>('PUT', '/config', settings),
    webhooks: () => call<LoggedWebhook[]>('GET', '/webhooks'),
    /** Resolves once `count` deliveries have finished (answered or failed); throws on timeout. */
    waitForWebhooks: (count: number, timeoutMs = 5000) =>
      call<LoggedWebhook[]>('GET', `/webhooks/wait?count=${count}&timeoutMs=${timeoutMs}`),
    resend: (transactionId: number | string) =>
      call<LoggedWebhook>('POST', `/webhooks/${encodeURIComponent(String(transactionId))}/resend`),
    transactions: () => call<Transaction[]>('GET', '/transactions'),
    /** What the Pay (successful) or Decline (failed) button does. */
    complete: (txRef: string, status: 'successful' | 'failed' = 'successful') =>
      call<CompletedTransaction>('POST', `/transactions/${encodeURIComponent(txRef)}/complete`, { status }),
    transfers: () => call<Array<Record<string, unknown>>>('GET', '/transfers'),
    /** The ledger (the judge of "exactly once"), optionally of one reference. */
    ledger: (reference?: string) =>
      call<Array<{ reference: string; amountMinor: number; currency: string; status: string }>>(
        'GET',
        reference === undefined ? '/ledger' : `/ledger?reference=${encodeURIComponent(reference)}`,
      ),
    completeTransfer: (reference: string, status: 'SUCCESSFUL' | 'FAILED' = 'SUCCESSFUL', completeMessage?: string) =>
      call<Record<string, unknown>>('POST', `/transfers/${encodeURIComponent(reference)}/complete`, {
        status,
        ...(completeMessage === undefined ? {} : { complete_message: completeMessage }),
      }),
    refunds: () => call<Array<Record<string, unknown>>>('GET', '/refunds'),
  };
}

export type FlutterwaveControlClient = ReturnType<typeof createFlutterwaveControlClient>;
