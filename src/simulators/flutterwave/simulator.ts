// A local Flutterwave v3: the same endpoints, payloads and signatures as the real API
// (shared/provider-wire-formats.md §1), a hosted checkout with Pay and Decline buttons, signed
// webhooks, and a control API for fault injection under /_sim/ (documented in ../README.md).
// Used by the gateway in test mode, by our tests, and alone by merchants (`paywarden simulate`).
import Fastify, { type FastifyInstance } from 'fastify';
import formbody from '@fastify/formbody';
import { listenSimulator } from '../shared/listen.ts';
import { registerBankRoutes } from './bank-routes.ts';
import { registerCheckoutRoutes } from './checkout-routes.ts';
import { createCheckoutCompletion } from './checkouts.ts';
import { registerFlutterwaveControl } from './control-routes.ts';
import { registerPaymentRoutes } from './payment-routes.ts';
import { createState, type SimulatorState } from './state.ts';
import { registerTransferRoutes } from './transfer-routes.ts';
import { createV3Gate } from './v3-gate.ts';
import { createWebhookSender } from './webhook-sender.ts';
import { errorEnvelope } from './wire.ts';

export interface FlutterwaveSimulatorOptions {
  /** Expected as `Authorization: Bearer <secretKey>` on every /v3 call. */
  readonly secretKey: string;
  /** Sent as `verif-hash`, and the HMAC key of `flutterwave-signature`. */
  readonly secretHash: string;
  /** Where signed webhooks go; changeable with PUT /_sim/config. */
  readonly webhookUrl?: string;
  /** Base of checkout links; by default the address the simulator listens on. */
  readonly publicBaseUrl?: string;
  /** Milliseconds since the epoch; stamps created_at and the webhook log. */
  readonly now?: () => number;
}

export type FlutterwaveSimulator = FastifyInstance & { readonly simulatorState: SimulatorState };

/** Builds the simulator; never listens (tests may use `inject`). */
export function buildFlutterwaveSimulator(options: FlutterwaveSimulatorOptions): FlutterwaveSimulator {
  const nowMs = options.now ?? Date.now;
  const state = createState(options.webhookUrl);
  const sender = createWebhookSender(state, options.secretHash, nowMs);
  const gate = createV3Gate(options.secretKey, state.faults);
  const complete = createCheckoutCompletion(state, sender, nowMs);
  // ignoreDuplicateSlashes: flutterwave-node-v3 1.3.2 asks for `//v3/transfers/:id` (§1.11).
  // forceCloseConnections: a `timeout` fault holds sockets open on purpose; close must not wait.
  const app = Fastify({ logger: false, routerOptions: { ignoreDuplicateSlashes: true }, forceCloseConnections: true });
  void app.register(formbody);
  acceptLenientJson(app);
  // Errors (a body that is not JSON, say) answer in Flutterwave's envelope, not Fastify's.
  app.setErrorHandler((error: { statusCode?: number; message?: string }, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    return reply
      .code(status)
      .send(
        errorEnvelope(status >= 500 ? 'An error occurred. Please contact support' : (error.message ?? 'Bad request')),
      );
  });
  app.addHook('onClose', async () => {
    gate.releaseAll();
    await sender.close();
  });

  registerPaymentRoutes(app, {
    state,
    gate,
    nowMs,
    baseUrlFor: (host) => options.publicBaseUrl?.replace(/\/+$/, '') ?? listeningBaseUrl(app, host),
  });
  registerCheckoutRoutes(app, { state, complete, nowMs });
  registerBankRoutes(app, gate);
  registerTransferRoutes(app, { state, gate, sender, nowMs });
  registerFlutterwaveControl(app, { state, sender, complete, releaseHeld: () => gate.releaseAll() });
  return Object.assign(app, { simulatorState: state });
}

export async function startFlutterwaveSimulator(
  options: FlutterwaveSimulatorOptions & { host?: string; port?: number },
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  return listenSimulator(buildFlutterwaveSimulator(options), options.host, options.port);
}

/**
 * JSON as clients really send it: flutterwave-node-v3 sets `Content-Type: application/json` on
 * bodiless GETs, and hand-written callers POST JSON with no content type at all. Fastify's own
 * parser (which refuses `__proto__` and `constructor` keys) does the parsing.
 */
function acceptLenientJson(app: FastifyInstance): void {
  const strict = app.getDefaultJsonParser('error', 'error');
  const lenient = (
    request: Parameters<typeof strict>[0],
    body: string | Buffer,
    done: (err: Error | null, body?: unknown) => void,
  ) => {
    if (body.length === 0) return done(null, undefined);
    return strict(request, body.toString(), done);
  };
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, lenient);
  // Only where no other parser matches (form bodies still go to @fastify/formbody).
  app.addContentTypeParser('*', { parseAs: 'string' }, lenient);
}

/** `http://<address the simulator is bound to>`; the Host header when bound to every interface or not listening. */
function listeningBaseUrl(app: FastifyInstance, host: string | undefined): string {
  const address = app.server.address();
  if (typeof address === 'object' && address !== null && address.address !== '0.0.0.0' && address.address !== '::') {
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }
  return `http://${host ?? '127.0.0.1'}`;
}
