// The /_sim/ control API, identical for every simulator (documented in ../README.md). Each
// simulator supplies what differs: its transactions, its settings and how a payment completes.
import { isLoopback } from '../../net/addresses.ts';
import type { FastifyInstance } from 'fastify';
import { parseFaultRequest, type FaultStore } from './faults.ts';
import type { WebhookLogEntry } from './webhook-poster.ts';

export interface ControlHooks {
  readonly faults: FaultStore;
  /** Names a fault's scope may arrive under (tx_ref everywhere, plus the provider's own word). */
  readonly scopeFields: readonly string[];
  readonly webhooks: () => readonly WebhookLogEntry[];
  readonly transactions: () => unknown[];
  /** Every checkout created (paid or not), by the reference it was created under: a test counts
   * how many one payment got. */
  readonly checkouts: () => Array<{ reference: string }>;
  /** Validates and applies settings; answers the settings, or an error message. */
  readonly configure: (body: Record<string, unknown>) => { ok: true; settings: unknown } | { ok: false; error: string };
  /** Resends a transaction's webhook; undefined when there is no such transaction. */
  readonly resend: (id: string) => { ok: true; entry: unknown } | { ok: false; status: number; error: string };
  /** What the Pay or Decline button does, headlessly. */
  readonly complete: (
    scope: string,
    status: string | undefined,
  ) => { ok: true; result: unknown } | { ok: false; status: number; error: string };
  readonly reset: () => void;
  /** Called when faults are cleared or everything is reset (releases held requests). */
  readonly onClear: () => void;
  /** The provider's own control routes (e.g. Flutterwave transfers), under the same loopback guard. */
  readonly extraRoutes?: (control: FastifyInstance) => void;
}

// Bounds GET /_sim/webhooks/wait, so a forgotten wait cannot hold a request (and a timer) forever.
const MAX_WAIT_MS = 60_000;
const WAIT_POLL_MS = 5;

export function registerControlApi(app: FastifyInstance, hooks: ControlHooks): void {
  void app.register(
    async (control) => {
      control.addHook('onRequest', async (request, reply) => {
        if (!isLoopback(request.socket.remoteAddress))
          return reply.code(403).send({ error: 'the control API answers loopback only' });
      });
      control.post('/faults', async (request, reply) => {
        const parsed = parseFaultRequest((request.body ?? {}) as Record<string, unknown>, hooks.scopeFields);
        if (!parsed.ok) return reply.code(400).send({ error: parsed.error });
        hooks.faults.add(parsed.fault);
        return reply.code(201).send({ faults: hooks.faults.describe() });
      });
      control.delete('/faults', async () => {
        hooks.faults.clear();
        hooks.onClear();
        return { faults: [] };
      });
      control.post('/reset', async () => {
        hooks.faults.clear();
        hooks.reset();
        hooks.onClear();
        return { reset: true };
      });
      control.get('/webhooks', async () => hooks.webhooks());
      // Lets a test await deliveries instead of sleeping: answers once `count` deliveries have
      // finished (answered or failed), or 408 with the log so far when `timeoutMs` runs out.
      control.get<{ Querystring: { count?: string; timeoutMs?: string } }>('/webhooks/wait', async (request, reply) => {
        const count = Number(request.query.count ?? '1');
        const timeoutMs = Number(request.query.timeoutMs ?? '5000');
        if (
          !Number.isInteger(count) ||
          count < 0 ||
          !Number.isInteger(timeoutMs) ||
          timeoutMs < 0 ||
          timeoutMs > MAX_WAIT_MS
        ) {
          return reply
            .code(400)
            .send({ error: `count: a whole number >= 0; timeoutMs: a whole number from 0 to ${MAX_WAIT_MS}` });
        }
        const deadline = Date.now() + timeoutMs;
        const finished = () => hooks.webhooks().filter((entry) => entry.done).length;
        while (finished() < count && Date.now() < deadline && !request.raw.socket.destroyed) {
          await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
        }
        const webhooks = hooks.webhooks();
        return finished() >= count
          ? webhooks
          : reply
              .code(408)
              .send({ error: `${finished()} of ${count} deliveries finished in ${timeoutMs} ms`, webhooks });
      });
      control.get('/transactions', async () => hooks.transactions());
      control.get('/checkouts', async () => hooks.checkouts());
      control.put('/config', async (request, reply) => {
        const result = hooks.configure((request.body ?? {}) as Record<string, unknown>);
        return result.ok ? result.settings : reply.code(400).send({ error: result.error });
      });
      control.post<{ Params: { id: string } }>('/webhooks/:id/resend', async (request, reply) => {
        const result = hooks.resend(request.params.id);
        return result.ok ? reply.code(202).send(result.entry) : reply.code(result.status).send({ error: result.error });
      });
      control.post<{ Params: { scope: string }; Body: { status?: string } | undefined }>(
        '/transactions/:scope/complete',
        async (request, reply) => {
          const result = hooks.complete(request.params.scope, request.body?.status);
          return result.ok ? result.result : reply.code(result.status).send({ error: result.error });
        },
      );
      hooks.extraRoutes?.(control);
    },
    { prefix: '/_sim' },
  );
}
