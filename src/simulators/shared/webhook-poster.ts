// Delivers a simulator's webhooks and keeps the log tests read (GET /_sim/webhooks). Providers
// differ in bodies and signatures, not in how a POST is made, timed out and recorded.
export interface WebhookLogEntry {
  readonly url: string;
  /** The provider's event id, where its webhooks have one (Stripe's evt_…). */
  readonly eventId?: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  statusCode: number | null;
  error: string | null;
  done: boolean;
  readonly sentAt: string;
}

const DELIVERY_TIMEOUT_MS = 60_000;

export function createWebhookPoster(log: WebhookLogEntry[], nowMs: () => number = Date.now) {
  const inFlight = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();

  async function post(entry: WebhookLogEntry): Promise<void> {
    const controller = new AbortController();
    controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
    try {
      const response = await fetch(entry.url, {
        method: 'POST',
        headers: entry.headers,
        body: entry.body,
        signal: controller.signal,
        redirect: 'manual',
      });
      entry.statusCode = response.status;
      await response.arrayBuffer();
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      controllers.delete(controller);
      entry.done = true;
    }
  }

  function deliver(url: string, body: string, headers: Record<string, string>, eventId?: string): WebhookLogEntry {
    const entry: WebhookLogEntry = {
      url,
      ...(eventId === undefined ? {} : { eventId }),
      body,
      headers,
      statusCode: null,
      error: null,
      done: false,
      sentAt: new Date(nowMs()).toISOString(),
    };
    log.push(entry);
    const sending = post(entry).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
    return entry;
  }

  return {
    deliver,
    /** The identical bytes and headers again: a duplicate delivery, not a new event. */
    repeat: (entry: WebhookLogEntry) => deliver(entry.url, entry.body, { ...entry.headers }, entry.eventId),
    async waitFor(entry: WebhookLogEntry): Promise<void> {
      while (!entry.done) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    async close(): Promise<void> {
      for (const controller of controllers) controller.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type WebhookPoster = ReturnType<typeof createWebhookPoster>;
