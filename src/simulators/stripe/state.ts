// In-memory state of the Stripe simulator: Checkout Sessions, the events sent about them,
// idempotency records, injected faults, settings and the log of webhooks sent. Nothing persists;
// `reset` clears it all except settings (../shared/world.ts). Faults and their names are the
// Flutterwave simulator's (../README.md).
import { randomBytes } from 'node:crypto';
import { commonState, resetWorld } from '../shared/world.ts';
import type { SessionParams } from './session-params.ts';

/** What the merchant asked for (the parsed parameters, so their list lives in one place), plus
 * what Stripe adds. */
export interface Session extends Omit<SessionParams, 'expiresAt'> {
  readonly id: string;
  /** The hosted page, on the simulator's own address as the client reached it. */
  readonly hostedUrl: string;
  readonly paymentIntentId: string;
  readonly mode: 'payment';
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid';
  /** Set at the first attempt (Stripe creates the PaymentIntent lazily in recent API versions). */
  payment_intent: string | null;
  /** The PaymentIntent's status once there is one: a decline or an async failure leaves it
   * requires_payment_method, a delayed method settling is processing. */
  piStatus: 'requires_payment_method' | 'processing' | 'succeeded' | null;
  /** How it was paid (or is being paid): card, or the currency's delayed method. */
  paymentMethod: string | null;
  readonly created: number;
  /** The merchant's `expires_at`, else 24 hours after creation: always set here. */
  readonly expiresAt: number;
}

export interface StoredEvent {
  readonly id: string;
  readonly sessionId: string;
  readonly type: string;
  /** The exact bytes sent; a resend or a duplicate repeats them (only the signature's t changes). */
  readonly body: string;
}

export interface SimulatorSettings {
  webhookUrl: string | undefined;
  /** While a secret is rolled Stripe signs with both: a second v1 entry with this secret. */
  additionalWebhookSecret: string | null;
}

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly statusCode: number;
  readonly body: string;
}

/** Stripe-looking ids: prefix plus 24 random alphanumerics. */
export function newId(prefix: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return prefix + [...randomBytes(24)].map((b) => alphabet[b % alphabet.length]).join('');
}

export function createState(webhookUrl: string | undefined) {
  const state = {
    sessions: new Map<string, Session>(),
    events: new Map<string, StoredEvent>(),
    idempotency: new Map<string, IdempotencyRecord>(),
    ...commonState<SimulatorSettings>({ webhookUrl, additionalWebhookSecret: null }),
    /** The open (or else the latest) session for our reference. */
    sessionFor(txRef: string): Session | undefined {
      const all = [...state.sessions.values()].filter((s) => s.clientReferenceId === txRef);
      return all.find((s) => s.status === 'open') ?? all.at(-1);
    },
    reset(): void {
      resetWorld(state, [state.sessions, state.events, state.idempotency]);
    },
  };
  return state;
}

export type SimulatorState = ReturnType<typeof createState>;
