// MON-3 on the dashboard: the same incident service as `paywarden incident`, acting for the
// signed-in operator. Viewing needs respond_to_incidents (owners and admins); every change also
// a password entry within 5 minutes (OPS-8). Each step is a timeline row and an audit row, written
// by the service in one transaction.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams } from '../../api/schemas.ts';
import type { IncidentResult } from '../../incidents/incident-service.ts';
import { permit, permitSensitive, sendMessage, sendPage, type DashboardDeps } from '../context.ts';
import { incidentPage, incidentsPage, rotatedPage } from '../pages/incidents.ts';
import {
  CsrfOnlyBody,
  ExportIncidentBody,
  IncidentNoteBody,
  OpenIncidentBody,
  RotateIncidentBody,
} from '../schemas.ts';

const MAX_OVERLAP_HOURS = 168;

export function incidentRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const incidents = (operatorId: string) => deps.incidentsFor({ actorType: 'operator', actorId: operatorId });
  const page = (id: string) => `/dashboard/incidents/${id}`;
  /** A change to incident `id`: the role, a fresh password, then the service acting for the operator. */
  const change = async (request: FastifyRequest, reply: FastifyReply, id: string) => {
    const who = await permitSensitive(deps, request, reply, 'respond_to_incidents', page(id));
    return who === undefined ? undefined : { who, service: incidents(who.operator.id) };
  };
  /** An expected refusal (closed, no finding yet...) as a page; otherwise back to the timeline. */
  const after = <T>(request: FastifyRequest, reply: FastifyReply, id: string, result: IncidentResult<T>) =>
    result.ok ? reply.redirect(page(id), 303) : sendMessage(request, reply, 409, 'Not done', `${result.error}.`);

  api.get('/incidents', async (request, reply) => {
    const who = await permit(deps, request, reply, 'respond_to_incidents');
    if (who === undefined) return reply;
    return sendPage(
      request,
      reply,
      { title: 'Incidents', active: 'incidents' },
      incidentsPage(await incidents(who.operator.id).list(), who.csrfToken),
    );
  });

  api.post('/incidents', { schema: { body: OpenIncidentBody } }, async (request, reply) => {
    const who = await permitSensitive(deps, request, reply, 'respond_to_incidents', '/dashboard/incidents');
    if (who === undefined) return reply;
    const id = await incidents(who.operator.id).open(request.body.title);
    return reply.redirect(page(id), 303);
  });

  api.get('/incidents/:id', { schema: { params: IdParams('inc') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'respond_to_incidents');
    if (who === undefined) return reply;
    const service = incidents(who.operator.id);
    const incident = await service.get(request.params.id);
    if (incident === undefined)
      return sendMessage(request, reply, 404, 'No such incident', 'There is no incident with this id.');
    return sendPage(
      request,
      reply,
      { title: `Incident: ${incident.title}`, active: 'incidents' },
      incidentPage(incident, await service.timeline(incident.id), who.csrfToken, deps.clock.nowMs()),
    );
  });

  api.post(
    '/incidents/:id/notes',
    { schema: { params: IdParams('inc'), body: IncidentNoteBody } },
    async (request, reply) => {
      const { id } = request.params;
      const allowed = await change(request, reply, id);
      if (allowed === undefined) return reply;
      const { service } = allowed;
      return after(request, reply, id, await service.record(id, request.body.kind, request.body.text));
    },
  );

  api.post(
    '/incidents/:id/rotate',
    { schema: { params: IdParams('inc'), body: RotateIncidentBody } },
    async (request, reply) => {
      const { id } = request.params;
      const allowed = await change(request, reply, id);
      if (allowed === undefined) return reply;
      const { service } = allowed;
      const hours = Number(request.body.key_overlap_hours);
      if (hours > MAX_OVERLAP_HOURS)
        return sendMessage(request, reply, 400, 'Not rotated', `The overlap is 0 to ${MAX_OVERLAP_HOURS} hours.`);
      const rotated = await service.rotate(id, { apiKeyOverlapMs: hours * 3_600_000 });
      if (!rotated.ok) return sendMessage(request, reply, 409, 'Not rotated', `${rotated.error}.`);
      // The new secrets, once, in this answer: the operator's own session has just ended with
      // every other, so there is no later page to show them on.
      return sendPage(
        request,
        reply,
        { title: 'Credentials rotated', active: 'incidents' },
        rotatedPage(id, rotated.value),
      );
    },
  );

  api.post(
    '/incidents/:id/export',
    { schema: { params: IdParams('inc'), body: ExportIncidentBody } },
    async (request, reply) => {
      const { id } = request.params;
      const allowed = await change(request, reply, id);
      if (allowed === undefined) return reply;
      const { who, service } = allowed;
      // The form's datetime-local values, read as UTC (the page says so).
      const fromMs = Date.parse(`${request.body.from}Z`);
      const toMs = Date.parse(`${request.body.to}Z`);
      if (Number.isNaN(fromMs) || Number.isNaN(toMs))
        return sendMessage(request, reply, 400, 'Not exported', 'Give the window as dates and times.');
      const built = await service.buildExport(id, fromMs, toMs);
      if (!built.ok) return sendMessage(request, reply, 409, 'Not exported', `${built.error}.`);
      await service.recordExport(id, `downloaded from the dashboard by ${who.operator.id}`, built.value, fromMs, toMs);
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', `attachment; filename="${id}-export.json"`)
        .header('x-export-sha256', built.value.sha256)
        .send(built.value.text);
    },
  );

  api.post(
    '/incidents/:id/close',
    { schema: { params: IdParams('inc'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const { id } = request.params;
      const allowed = await change(request, reply, id);
      if (allowed === undefined) return reply;
      const { service } = allowed;
      return after(request, reply, id, await service.close(id));
    },
  );
}
