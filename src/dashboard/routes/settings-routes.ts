// The operator's own account: password, recovery codes, passkeys; and the deployment's settings,
// read-only. Adding or removing a second factor, or replacing recovery codes, needs a password
// entry within the last 5 minutes (OPS-8), like every other sensitive action.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { OPERATOR_ERROR_MESSAGES } from '../../operators/accounts.ts';
import {
  COOKIE_ATTRIBUTES,
  relyingPartyOf,
  sendMessage,
  sendPage,
  SESSION_COOKIE,
  signedIn,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { settingsPage, type SettingsView } from '../pages/settings.ts';
import { reauthPage, recoveryCodesPage } from '../pages/sign-in.ts';
import { ChangePasswordBody, CsrfOnlyBody, PasskeyAddBody } from '../schemas.ts';
import { IdParams } from '../../api/schemas.ts';
import { DASHBOARD_CSP_WITH_SCRIPT } from '../security.ts';

export function settingsRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { operators } = deps;

  const isFresh = (who: SignedInOperator) => operators.sessions.requireFresh(who.session).ok;

  async function sendSettings(
    request: FastifyRequest,
    reply: FastifyReply,
    who: SignedInOperator,
    extra: Partial<SettingsView> = {},
    status = 200,
  ) {
    const view: SettingsView = {
      session: {
        createdAt: who.session.createdAt,
        expiresAt: who.session.expiresAt,
        idleTimeoutMinutes: operators.sessions.idleTimeoutMs / 60_000,
      },
      deployment: deps.deployment,
      passkeys: await operators.passkeys.list(who.operator.id),
      fresh: isFresh(who),
      ...extra,
    };
    void reply.header('content-security-policy', DASHBOARD_CSP_WITH_SCRIPT);
    return sendPage(
      request,
      reply,
      { title: 'Settings', active: 'settings', status },
      settingsPage(view, who.csrfToken),
    );
  }

  /** JSON answers for the passkey script; the message is shown to the operator as it is. */
  const refuse = (reply: FastifyReply, status: number, message: string) => reply.code(status).send({ message });

  api.get('/settings', async (request, reply) => sendSettings(request, reply, signedIn(request)));

  api.post('/settings/password', { schema: { body: ChangePasswordBody } }, async (request, reply) => {
    const who = signedIn(request);
    const outcome = await operators.changePassword({
      operatorId: who.operator.id,
      currentPassword: request.body.current_password,
      newPassword: request.body.new_password,
      ip: request.ip,
    });
    if (outcome.ok) {
      // Every session ended with the change, this one included (OPS-5).
      void reply.clearCookie(SESSION_COOKIE, COOKIE_ATTRIBUTES);
      return reply.redirect('/dashboard/login?notice=password_changed', 303);
    }
    return sendSettings(
      request,
      reply,
      who,
      {
        error: OPERATOR_ERROR_MESSAGES[outcome.error],
        ...(outcome.failures === undefined ? {} : { failures: outcome.failures }),
      },
      400,
    );
  });

  api.post('/settings/recovery-codes', { schema: { body: CsrfOnlyBody } }, async (request, reply) => {
    const who = signedIn(request);
    if (!isFresh(who))
      return sendPage(
        request,
        reply,
        { title: 'Confirm your password', status: 403 },
        reauthPage({ returnTo: '/dashboard/settings', csrfToken: who.csrfToken }),
      );
    const outcome = await operators.regenerateRecoveryCodes({ operatorId: who.operator.id, ip: request.ip });
    if (!outcome.ok)
      return sendMessage(request, reply, 400, 'Recovery codes not replaced', OPERATOR_ERROR_MESSAGES[outcome.error]);
    return sendPage(
      request,
      reply,
      { title: 'Your new recovery codes', active: 'settings' },
      recoveryCodesPage(outcome.recoveryCodes, '/dashboard/settings'),
    );
  });

  api.post('/settings/passkeys/options', { schema: { body: CsrfOnlyBody } }, async (request, reply) => {
    const who = signedIn(request);
    if (!isFresh(who))
      return refuse(
        reply,
        403,
        'Adding a passkey needs your password again: confirm it on this page, then add the passkey within 5 minutes.',
      );
    const outcome = await operators.passkeys.registrationOptions(who.session, relyingPartyOf(request, deps));
    if (!outcome.ok) return refuse(reply, 400, OPERATOR_ERROR_MESSAGES[outcome.error]);
    return { options: outcome.options };
  });

  api.post('/settings/passkeys', { schema: { body: PasskeyAddBody } }, async (request, reply) => {
    const who = signedIn(request);
    if (!isFresh(who)) return refuse(reply, 403, 'Adding a passkey needs your password again.');
    const outcome = await operators.passkeys.register(
      who.session,
      { name: request.body.name, response: request.body.response },
      relyingPartyOf(request, deps),
      request.ip,
    );
    if (!outcome.ok) return refuse(reply, 400, OPERATOR_ERROR_MESSAGES[outcome.error]);
    return reply.code(201).send({ id: outcome.passkeyId });
  });

  api.post(
    '/settings/passkeys/:id/delete',
    { schema: { params: IdParams('pk'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const who = signedIn(request);
      if (!isFresh(who))
        return sendPage(
          request,
          reply,
          { title: 'Confirm your password', status: 403 },
          reauthPage({ returnTo: '/dashboard/settings', csrfToken: who.csrfToken }),
        );
      const removed = await operators.passkeys.remove(who.operator.id, request.params.id, request.ip);
      if (!removed) return sendMessage(request, reply, 404, 'Not found', 'You have no passkey with this id.');
      return reply.redirect('/dashboard/settings', 303);
    },
  );
}
