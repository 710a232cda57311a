// What every dashboard route shares: cookie names and attributes, the signed-in operator on the
// request, page rendering, and the guards for permissions and recent re-authentication.
import type { Cidr } from '../net/addresses.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { writeAudit, type AuditActor, type RequestMeta } from '../audit/audit.ts';
import type { Clock } from '../clock.ts';
import type { Db, Mode } from '../db/schema.ts';
import type { EventService } from '../events/event-service.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { ApiKeyService } from '../keys/api-keys.ts';
import type { OperatorService, OperatorSummary } from '../operators/accounts.ts';
import type { PayoutService } from '../payouts/payout-service.ts';
import { can, type OperatorAction } from '../operators/permissions.ts';
import type { OperatorSession } from '../operators/sessions.ts';
import type { RelyingParty } from '../operators/passkeys.ts';
import type { EndpointService } from '../webhook-endpoints/endpoint-service.ts';
import type { SafeHtml } from './html.ts';
import type { HoldService } from '../payouts/controls/holds.ts';
import type { ControlSettings } from '../payouts/controls/settings.ts';
import { layout } from './layout.ts';
import { messagePage, reauthPage } from './pages/sign-in.ts';
import type { DashboardQueries } from './queries.ts';
import type { PayoutBatchService } from '../payout-batches/batch-service.ts';
import type { HostEntry } from '../net/host-allowlist.ts';
import type { IncidentService } from '../incidents/incident-service.ts';
import type { CustomerDataService } from '../privacy/customer-data.ts';

// `__Host-`: the browser keeps these only if Secure, Path=/ and without Domain, so no sibling
// subdomain or plain-http page can set or overwrite them (OPS-4).
export const SESSION_COOKIE = '__Host-paywarden_session';
export const CHALLENGE_COOKIE = '__Host-paywarden_signin';
export const MODE_COOKIE = '__Host-paywarden_mode';
export const COOKIE_ATTRIBUTES = Object.freeze({
  path: '/',
  secure: true,
  httpOnly: true,
  sameSite: 'strict' as const,
});

export interface DashboardDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly operators: OperatorService;
  readonly queries: DashboardQueries;
  readonly keys: ApiKeyService;
  readonly endpoints: EndpointService;
  readonly events: EventService;
  readonly payoutBatches: PayoutBatchService;
  readonly payoutHolds: HoldService;
  readonly payoutControls: ControlSettings;
  /** MON-3: the incident service acting for an operator (the same one the CLI uses). */
  readonly incidentsFor: (actor: AuditActor) => IncidentService;
  /** Customer export and erasure (DAT-3), the audited service the API uses. */
  readonly customers: CustomerDataService;
  readonly payouts: PayoutService;
  /** Told when a dead job is queued again, so the workers pick it up at once. */
  readonly queue: JobQueue;
  readonly loginLimiter: RateLimiterAbstract;
  readonly publicUrl: string;
  readonly liveEnabled: boolean;
  /** OPS-11: undefined means the dashboard is reachable wherever the server is. */
  readonly allowedNetworks: readonly Cidr[] | undefined;
  /** The host names the dashboard answers at (src/net/host-allowlist.ts). */
  readonly hosts: readonly HostEntry[];
  /** Read-only facts for the settings page (never secrets). */
  readonly deployment: ReadonlyArray<readonly [string, string]>;
}

export interface SignedInOperator {
  readonly operator: OperatorSummary;
  readonly session: OperatorSession;
  readonly csrfToken: string;
  readonly mode: Mode;
  readonly liveEnabled: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    signedIn: SignedInOperator | null;
  }
}

export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const agent = request.headers['user-agent'];
  return { requestId: request.id, ip: request.ip, userAgent: typeof agent === 'string' ? agent : null };
}

/** The services' request context, naming the signed-in operator as the actor in their audit rows. */
export function operatorContext(who: SignedInOperator, request: { id: string; ip: string }) {
  return { mode: who.mode, apiKeyId: '', operatorId: who.operator.id, requestId: request.id, ip: request.ip };
}

export function signedIn(request: FastifyRequest): SignedInOperator {
  if (request.signedIn === null) throw new Error('route registered outside the signed-in scope');
  return request.signedIn;
}

export interface PageOptions {
  readonly title: string;
  readonly active?: string;
  readonly status?: number;
}

export function sendPage(
  request: FastifyRequest,
  reply: FastifyReply,
  options: PageOptions,
  body: SafeHtml,
): FastifyReply {
  const who = request.signedIn;
  const page = layout(
    {
      title: options.title,
      active: options.active ?? '',
      operator: who === null ? undefined : { email: who.operator.email, role: who.operator.role },
      mode: who?.mode ?? 'test',
      csrfToken: who?.csrfToken,
      liveEnabled: who?.liveEnabled ?? false,
    },
    body,
  );
  return reply
    .code(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(page.value);
}

export function sendMessage(
  request: FastifyRequest,
  reply: FastifyReply,
  status: number,
  title: string,
  message: string,
): FastifyReply {
  return sendPage(request, reply, { title, status }, messagePage(message, request.id));
}

/**
 * The permission check for a route (OPS-12). A refused change is itself audited as `denied`, so
 * probing for what one's role allows leaves a trace.
 */
export async function permit(
  deps: DashboardDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  action: OperatorAction,
): Promise<SignedInOperator | undefined> {
  const who = signedIn(request);
  if (can(who.operator.role, action)) return who;
  if (request.method === 'POST') {
    await writeAudit(deps.db, deps.clock, {
      mode: who.mode,
      actorType: 'operator',
      actorId: who.operator.id,
      action: `dashboard.${action}`,
      objectType: 'route',
      objectId: request.routeOptions.url ?? request.url,
      result: 'denied',
    });
  }
  sendMessage(request, reply, 403, 'Not allowed', `Your role (${who.operator.role}) does not allow this.`);
  return undefined;
}

/**
 * LOG-3: opening a customer's or beneficiary's details or a raw provider payload (names, emails,
 * card digits as the provider sent them) is recorded; lists show less and are not.
 */
export function recordView(
  deps: Pick<DashboardDeps, 'db' | 'clock'>,
  who: SignedInOperator,
  objectType: string,
  objectId: string,
) {
  return writeAudit(deps.db, deps.clock, {
    mode: who.mode,
    actorType: 'operator',
    actorId: who.operator.id,
    action: `${objectType}.viewed`,
    objectType,
    objectId,
  });
}

/** Sensitive actions (OPS-8): the password must have been entered within the last 5 minutes. */
export async function permitSensitive(
  deps: DashboardDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  action: OperatorAction,
  returnTo: string,
): Promise<SignedInOperator | undefined> {
  const who = await permit(deps, request, reply, action);
  if (who === undefined) return undefined;
  if (deps.operators.sessions.requireFresh(who.session).ok) return who;
  sendPage(
    request,
    reply,
    { title: 'Confirm your password', status: 403 },
    reauthPage({ returnTo, csrfToken: who.csrfToken }),
  );
  return undefined;
}

/**
 * The WebAuthn relying party for this request: the host name the browser addressed (passkeys are
 * bound to it by the browser), and the origins it may report, as for the same-origin check.
 */
export function relyingPartyOf(request: FastifyRequest, deps: Pick<DashboardDeps, 'publicUrl'>): RelyingParty {
  const addressed = `${request.protocol}://${request.host}`;
  const configured = new URL(deps.publicUrl).origin;
  return {
    id: request.hostname,
    name: 'Paywarden',
    origins: addressed === configured ? [configured] : [configured, addressed],
  };
}

/** Only dashboard paths, so a crafted return_to cannot send an operator elsewhere. */
export function safeReturnPath(value: unknown): string {
  return typeof value === 'string' && /^\/dashboard(\/[A-Za-z0-9_-]+)*$/.test(value) ? value : '/dashboard';
}
