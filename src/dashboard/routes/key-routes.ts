// The API keys page's forms: create, roll, revoke (API-3..6). Each needs manage_api_keys and a
// password entry within 5 minutes (OPS-8), runs the same checks as `paywarden keys` (key-policy.ts)
// and shows a new key and its signing secret once.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams } from '../../api/schemas.ts';
import { checkKeyRequest, type KeyRequest } from '../../keys/key-policy.ts';
import { PUBLISHABLE_SCOPE } from '../../keys/scopes.ts';
import { permitSensitive, sendMessage, sendPage, type DashboardDeps } from '../context.ts';
import { keyCreatedPage } from '../pages/keys.ts';
import { CreateKeyBody, CsrfOnlyBody, RollKeyBody } from '../schemas.ts';

export function keyRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();

  api.post('/keys', { schema: { body: CreateKeyBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_api_keys', '/dashboard/keys');
    if (who === undefined) return reply;
    const body = request.body;
    if (body.mode === 'live' && !deps.liveEnabled)
      return sendMessage(request, reply, 400, 'Live mode is off', 'Live mode is not enabled on this deployment.');
    const publishable = body.kind === 'publishable';
    if (!publishable && body.scopes === undefined)
      return sendMessage(request, reply, 400, 'No scope chosen', 'Tick at least one scope for the key.');
    const allowed = (body.allowed_networks ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    const keyRequest: KeyRequest = {
      kind: publishable ? 'publishable' : 'secret',
      mode: body.mode,
      name: body.name,
      // The form ticks the default scopes; a publishable key has its one fixed scope.
      ...(publishable ? {} : { scopes: [body.scopes ?? []].flat() }),
      ...(body.expires_in_days === undefined ? {} : { expiresInDays: Number(body.expires_in_days) }),
      ...(body.signed === 'on' ? { signed: true } : {}),
      ...(allowed.length === 0 ? {} : { allowedNetworks: allowed }),
    };
    const checked = checkKeyRequest(keyRequest);
    if (!checked.ok) return sendMessage(request, reply, 400, 'The key was not created', checked.message);
    const created = await deps.keys.create(keyRequest, { actorType: 'operator', actorId: who.operator.id });
    return sendPage(
      request,
      reply,
      { title: 'API key created', active: 'keys', status: 201 },
      keyCreatedPage({
        ...created,
        name: body.name,
        scopes: publishable ? [PUBLISHABLE_SCOPE] : checked.request.scopes,
      }),
    );
  });

  api.post('/keys/:id/roll', { schema: { params: IdParams('key'), body: RollKeyBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_api_keys', '/dashboard/keys');
    if (who === undefined) return reply;
    const overlapSeconds = Number(request.body.overlap_seconds);
    const check = checkKeyRequest({ mode: 'test', name: 'roll', overlapSeconds });
    if (!check.ok) return sendMessage(request, reply, 400, 'The key was not rolled', check.message);
    const rolled = await deps.keys.roll(
      request.params.id,
      { overlapSeconds },
      { actorType: 'operator', actorId: who.operator.id },
    );
    if (!rolled.ok)
      return sendMessage(
        request,
        reply,
        rolled.reason === 'not_found' ? 404 : 409,
        'The key was not rolled',
        {
          not_found: 'There is no such key.',
          not_active: 'This key is revoked or expired; create a new one instead.',
          already_rolled: 'This key was already rolled; roll its replacement.',
        }[rolled.reason],
      );
    const summary = (await deps.keys.list()).find((k) => k.id === rolled.id);
    return sendPage(
      request,
      reply,
      { title: 'API key rolled', active: 'keys', status: 201 },
      keyCreatedPage({
        ...rolled,
        name: summary?.name ?? '',
        scopes: summary?.scopes ?? [],
        rolledFrom: { id: request.params.id, worksUntil: rolled.previousExpiresAt },
      }),
    );
  });

  api.post('/keys/:id/revoke', { schema: { params: IdParams('key'), body: CsrfOnlyBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'manage_api_keys', '/dashboard/keys');
    if (who === undefined) return reply;
    await deps.keys.revoke(request.params.id, { actorType: 'operator', actorId: who.operator.id });
    return reply.redirect('/dashboard/keys', 303);
  });
}
