// The signed-in dashboard's state-changing forms. Each passed the same-origin check and the CSRF
// token before reaching here (plugin.ts); each checks the role, and the sensitive ones a password
// entry within 5 minutes (OPS-8). Secrets created here (API keys, signing secrets, invitation
// links) are shown once in the response and never again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { OPERATOR_ERROR_MESSAGES, type OperatorError } from '../../operators/accounts.ts';
import {
  COOKIE_ATTRIBUTES,
  MODE_COOKIE,
  operatorContext,
  permit,
  permitSensitive,
  safeReturnPath,
  sendMessage,
  sendPage,
  SESSION_COOKIE,
  signedIn,
  type DashboardDeps,
} from '../context.ts';
import { endpointSecretPage } from '../pages/endpoints.ts';
import { inviteCreatedPage } from '../pages/operators.ts';
import { reauthPage } from '../pages/sign-in.ts';
import { runDeadJobAgain } from '../../jobs/dead-jobs.ts';
import { CreateEndpointBody, CsrfOnlyBody, InviteBody, ModeBody, ReauthBody, RoleBody } from '../schemas.ts';
import { IdParams } from '../../api/schemas.ts';

export function actionRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { operators } = deps;
  const contextOf = operatorContext;

  api.post('/logout', { schema: { body: CsrfOnlyBody } }, async (request, reply) => {
    await operators.logout(request.cookies[SESSION_COOKIE] ?? '', request.ip);
    void reply.clearCookie(SESSION_COOKIE, COOKIE_ATTRIBUTES);
    return reply.redirect('/dashboard/login?ended=logout', 303);
  });

  api.post('/reauth', { schema: { body: ReauthBody } }, async (request, reply) => {
    const who = signedIn(request);
    const returnTo = safeReturnPath(request.body.return_to);
    const outcome = await operators.reauthenticate(who.session, request.body.password, request.ip);
    if (!outcome.ok)
      return sendPage(
        request,
        reply,
        { title: 'Confirm your password', status: 401 },
        reauthPage({ returnTo, csrfToken: who.csrfToken, error: OPERATOR_ERROR_MESSAGES.invalid_credentials }),
      );
    return reply.redirect(returnTo, 303);
  });

  api.post('/mode', { schema: { body: ModeBody } }, async (request, reply) => {
    if (request.body.mode === 'live' && !deps.liveEnabled)
      return sendMessage(request, reply, 400, 'Live mode is off', 'Live mode is not enabled on this deployment.');
    void reply.setCookie(MODE_COOKIE, request.body.mode, COOKIE_ATTRIBUTES);
    return reply.redirect(safeReturnPath(request.body.return_to), 303);
  });

  api.post('/endpoints', { schema: { body: CreateEndpointBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_webhook_endpoints', '/dashboard/endpoints');
    if (who === undefined) return reply;
    const events = Array.isArray(request.body.events) ? request.body.events : [request.body.events];
    const created = await deps.endpoints.create(contextOf(who, request), { url: request.body.url, events });
    return sendPage(
      request,
      reply,
      { title: 'Webhook endpoint added', active: 'endpoints', status: 201 },
      endpointSecretPage(created, created.secret),
    );
  });

  api.post(
    '/endpoints/:id/rotate',
    { schema: { params: IdParams('we'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permitSensitive(deps, request, reply, 'manage_webhook_endpoints', '/dashboard/endpoints');
      if (who === undefined) return reply;
      const rotated = await deps.endpoints.rotateSecret(contextOf(who, request), request.params.id);
      return sendPage(
        request,
        reply,
        { title: 'Signing secret rotated', active: 'endpoints' },
        endpointSecretPage(rotated, rotated.secret, rotated.previous_secret_expires_at),
      );
    },
  );

  api.post(
    '/endpoints/:id/delete',
    { schema: { params: IdParams('we'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permitSensitive(deps, request, reply, 'manage_webhook_endpoints', '/dashboard/endpoints');
      if (who === undefined) return reply;
      await deps.endpoints.remove(contextOf(who, request), request.params.id);
      return reply.redirect('/dashboard/endpoints', 303);
    },
  );

  api.post(
    '/events/:id/redeliver',
    { schema: { params: IdParams('evt'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permit(deps, request, reply, 'manage_webhook_endpoints');
      if (who === undefined) return reply;
      await deps.events.redeliver(contextOf(who, request), request.params.id);
      return reply.redirect('/dashboard/webhooks-out', 303);
    },
  );

  api.post(
    '/jobs/:id/run-again',
    { schema: { params: IdParams('job'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permit(deps, request, reply, 'manage_jobs');
      if (who === undefined) return reply;
      if (!(await runDeadJobAgain(deps, request.params.id, { actorType: 'operator', actorId: who.operator.id })))
        return sendMessage(
          request,
          reply,
          404,
          'Job not run again',
          'There is no dead job with this id: it may have been run again already.',
        );
      return reply.redirect('/dashboard/jobs', 303);
    },
  );

  api.post('/operators/invite', { schema: { body: InviteBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_operators', '/dashboard/operators');
    if (who === undefined) return reply;
    const outcome = await operators.invite({
      email: request.body.email,
      role: request.body.role,
      invitedBy: who.operator.id,
      ip: request.ip,
    });
    if (!outcome.ok)
      return sendMessage(
        request,
        reply,
        outcome.error === 'forbidden' ? 403 : 400,
        'Invitation not created',
        OPERATOR_ERROR_MESSAGES[outcome.error],
      );
    const link = `${deps.publicUrl}/dashboard/enrol/${outcome.token}`;
    return sendPage(
      request,
      reply,
      { title: 'Invitation created', active: 'operators', status: 201 },
      inviteCreatedPage({ email: request.body.email, role: request.body.role, link, expiresAt: outcome.expiresAt }),
    );
  });

  api.post('/operators/:id/role', { schema: { params: IdParams('op'), body: RoleBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_operators', '/dashboard/operators');
    if (who === undefined) return reply;
    const outcome = await operators.changeRole({
      actorId: who.operator.id,
      operatorId: request.params.id,
      role: request.body.role,
      ip: request.ip,
    });
    return backToOperators(request, reply, outcome, 'Role not changed');
  });

  // OPS-3: an owner ends a lockout (a lockout can be an attack on the operator); audited.
  api.post(
    '/operators/:id/unlock',
    { schema: { params: IdParams('op'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permitSensitive(deps, request, reply, 'unlock_operators', '/dashboard/operators');
      if (who === undefined) return reply;
      const outcome = await operators.unlock({
        actorId: who.operator.id,
        operatorId: request.params.id,
        ip: request.ip,
      });
      return backToOperators(request, reply, outcome, 'Operator not unlocked');
    },
  );

  api.post(
    '/operators/:id/disable',
    { schema: { params: IdParams('op'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = await permitSensitive(deps, request, reply, 'manage_operators', '/dashboard/operators');
      if (who === undefined) return reply;
      if (request.params.id === who.operator.id)
        return sendMessage(
          request,
          reply,
          400,
          'Operator not disabled',
          'You cannot disable your own account; ask another owner or admin.',
        );
      const outcome = await operators.disable({
        actorId: who.operator.id,
        operatorId: request.params.id,
        ip: request.ip,
      });
      return backToOperators(request, reply, outcome, 'Operator not disabled');
    },
  );
}

/** An operator change's answer: back to the Operators page, or a page saying why not. */
function backToOperators(
  request: FastifyRequest,
  reply: FastifyReply,
  outcome: { ok: true } | { ok: false; error: OperatorError },
  title: string,
): FastifyReply {
  if (outcome.ok) return reply.redirect('/dashboard/operators', 303);
  const status = outcome.error === 'forbidden' ? 403 : outcome.error === 'not_found' ? 404 : 400;
  return sendMessage(request, reply, status, title, OPERATOR_ERROR_MESSAGES[outcome.error]);
}
