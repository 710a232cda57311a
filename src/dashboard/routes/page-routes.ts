// The read-only pages of the signed-in dashboard. Each shows one mode at a time, like the API.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { can, canAssignRole } from '../../operators/permissions.ts';
import { OPERATOR_ROLES } from '../../operators/schema.ts';
import { permit, recordView, sendMessage, sendPage, type DashboardDeps } from '../context.ts';
import { auditPage } from '../pages/audit.ts';
import { endpointsPage } from '../pages/endpoints.ts';
import { keysPage } from '../pages/keys.ts';
import { operatorsPage } from '../pages/operators.ts';
import { overviewPage } from '../pages/overview.ts';
import { paymentDetailPage, paymentsPage } from '../pages/payments.ts';
import { webhookInDetailPage, webhooksInPage, webhooksOutPage } from '../pages/webhooks.ts';
import { jobsPage } from '../pages/jobs.ts';
import { deadJobs, oldestReadyWaitMs, queueCounts } from '../../jobs/queue-state.ts';
import { AuditQuery, PaymentsQuery } from '../schemas.ts';
import { IdParams } from '../../api/schemas.ts';

const DAY_MS = 86_400_000;

export function pageRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { queries } = deps;
  api.get('/', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const data = await queries.overview(who.mode, deps.clock.nowMs() - 30 * DAY_MS);
    return sendPage(
      request,
      reply,
      { title: 'Overview (last 30 days)', active: 'overview' },
      overviewPage(data, {
        canSeeJobs: can(who.operator.role, 'manage_jobs'),
        payoutsWaiting: await deps.payoutHolds.waitingForApproval(who.mode),
      }),
    );
  });

  api.get('/payments', { schema: { querystring: PaymentsQuery } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const q = request.query.q?.trim();
    const rows = await queries.searchPayments(who.mode, q, request.query.status);
    return sendPage(request, reply, { title: 'Payments', active: 'payments' }, paymentsPage(rows, q));
  });

  api.get('/payments/:id', { schema: { params: IdParams('pay') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const timeline = await queries.paymentTimeline(who.mode, request.params.id);
    if (timeline === undefined)
      return sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode payment with this id.`);
    await recordView(deps, who, 'payment', timeline.payment.id);
    return sendPage(
      request,
      reply,
      { title: `Payment ${timeline.payment.reference}`, active: 'payments' },
      paymentDetailPage(timeline),
    );
  });

  api.get('/webhooks-in', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    return sendPage(
      request,
      reply,
      { title: 'Webhooks in', active: 'webhooks-in' },
      webhooksInPage(await queries.webhooksIn(who.mode)),
    );
  });

  api.get('/webhooks-in/:id', { schema: { params: IdParams('whk') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const row = await queries.webhookIn(who.mode, request.params.id);
    if (row === undefined)
      return sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode webhook with this id.`);
    await recordView(deps, who, 'provider_webhook', row.id);
    return sendPage(
      request,
      reply,
      { title: `Webhook from ${row.provider}`, active: 'webhooks-in' },
      webhookInDetailPage(row),
    );
  });

  api.get('/webhooks-out', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const rows = await queries.deliveriesOut(who.mode);
    const attempts = await queries.deliveryAttempts(rows.map((d) => d.id));
    return sendPage(
      request,
      reply,
      { title: 'Webhooks out', active: 'webhooks-out' },
      webhooksOutPage(
        rows,
        attempts,
        who.csrfToken,
        can(who.operator.role, 'manage_webhook_endpoints'),
        can(who.operator.role, 'view_delivery_responses'),
      ),
    );
  });

  api.get('/endpoints', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const rows = await deps.endpoints.list(who.mode);
    return sendPage(
      request,
      reply,
      { title: 'Webhook endpoints', active: 'endpoints' },
      endpointsPage(rows, who.csrfToken, can(who.operator.role, 'manage_webhook_endpoints')),
    );
  });

  api.get('/keys', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const rows = await deps.keys.list();
    return sendPage(
      request,
      reply,
      { title: 'API keys', active: 'keys' },
      keysPage(rows, who.csrfToken, {
        canManage: can(who.operator.role, 'manage_api_keys'),
        liveEnabled: deps.liveEnabled,
        nowMs: deps.clock.nowMs(),
      }),
    );
  });

  api.get('/operators', async (request, reply) => {
    const who = await permit(deps, request, reply, 'manage_operators');
    if (who === undefined) return reply;
    const assignable = OPERATOR_ROLES.filter((r) => canAssignRole(who.operator.role, r));
    return sendPage(
      request,
      reply,
      { title: 'Operators', active: 'operators' },
      operatorsPage(await deps.operators.list(), who.csrfToken, {
        selfId: who.operator.id,
        assignable,
        canUnlock: can(who.operator.role, 'unlock_operators'),
        nowMs: deps.clock.nowMs(),
      }),
    );
  });

  api.get('/jobs', async (request, reply) => {
    const who = await permit(deps, request, reply, 'manage_jobs');
    if (who === undefined) return reply;
    const [counts, oldest, dead] = await Promise.all([
      queueCounts(deps.db),
      oldestReadyWaitMs(deps.db, deps.clock.nowMs()),
      deadJobs(deps.db),
    ]);
    return sendPage(
      request,
      reply,
      { title: 'Background jobs', active: 'jobs' },
      jobsPage({ counts, oldestReadyWaitMs: oldest, dead }, who.csrfToken),
    );
  });

  api.get('/audit', { schema: { querystring: AuditQuery } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_audit');
    if (who === undefined) return reply;
    const { actor, action, object, result } = request.query;
    const nonEmpty = (v: string | undefined) => (v === undefined || v === '' ? undefined : v);
    const filters = {
      actorId: nonEmpty(actor),
      action: nonEmpty(action),
      objectId: nonEmpty(object),
      result: nonEmpty(result) as 'success' | 'failure' | 'denied' | undefined,
    };
    const rows = await queries.audit(filters);
    return sendPage(
      request,
      reply,
      { title: 'Audit log', active: 'audit' },
      auditPage(rows, { actor, action, object, result }),
    );
  });
}
