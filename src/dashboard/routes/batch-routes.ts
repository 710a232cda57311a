// Payout files in the dashboard (OPS-10): upload (the one multipart form: multipart.ts, parsed
// only for this route, within its body limit), the preview of every row, the template and the
// per-row report as CSV downloads. Uploading needs `create_payouts`; the refusals of a file and
// each upload are audited by the batch service.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { writeAudit } from '../../audit/audit.ts';
import { IdParams } from '../../api/schemas.ts';
import { can } from '../../operators/permissions.ts';
import type { FileProblem } from '../../payout-batches/file-check.ts';
import { templateCsv } from '../../payout-batches/parse-file.ts';
import { batchReportCsv } from '../../payout-batches/report.ts';
import { FreeText } from '../../text/free-text.ts';
import {
  permit,
  permitSensitive,
  sendMessage,
  sendPage,
  SESSION_COOKIE,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { parseMultipart, type UploadedPart } from '../multipart.ts';
import { DECISION_REFUSALS } from './approval-routes.ts';
import { CsrfOnlyBody } from '../schemas.ts';
import { payoutBatchesPage, payoutBatchPage } from '../pages/payout-batches.ts';

const UPLOAD_PATH = '/dashboard/payout-batches';

const DecideBody = Type.Object(
  {
    csrf_token: CsrfOnlyBody.properties.csrf_token,
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    reason: FreeText({ minLength: 1, maxLength: 500 }),
  },
  { additionalProperties: false },
);

/** The form's other parts (the CSRF token) and the multipart framing, on top of the file itself. */
const FORM_OVERHEAD_BYTES = 16 * 1024;

const operatorContext = (who: SignedInOperator, request: { id: string; ip: string }) => ({
  mode: who.mode,
  apiKeyId: '',
  operatorId: who.operator.id,
  requestId: request.id,
  ip: request.ip,
});

function sendCsv(reply: FastifyReply, filename: string, body: string): FastifyReply {
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${filename}"`)
    .send(body);
}

export function payoutBatchRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const batches = deps.payoutBatches;
  const bodyLimit = batches.limits.maxBytes + FORM_OVERHEAD_BYTES;

  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer', bodyLimit }, (request, body, done) => {
    if (request.routeOptions.url !== UPLOAD_PATH)
      return done(
        Object.assign(new Error('multipart/form-data is accepted only by the upload form'), { statusCode: 415 }),
      );
    const parsed = parseMultipart(body as Buffer, request.headers['content-type'] ?? '', {
      maxParts: 3,
      maxFieldBytes: 512,
    });
    if (!parsed.ok) return done(Object.assign(new Error(`multipart: ${parsed.reason}`), { statusCode: 400 }));
    done(null, { ...parsed.form.fields, ...parsed.form.files });
  });

  async function listPage(request: FastifyRequest, reply: FastifyReply, who: SignedInOperator, problem?: FileProblem) {
    return sendPage(
      request,
      reply,
      { title: 'Payout files', active: 'payout-batches', status: problem === undefined ? 200 : 422 },
      payoutBatchesPage(await batches.list(who.mode, 50), {
        csrfToken: who.csrfToken,
        limits: batches.limits,
        canUpload: can(who.operator.role, 'create_payouts'),
        ...(problem === undefined ? {} : { problem }),
      }),
    );
  }

  api.get('/payout-batches', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    return listPage(request, reply, who);
  });

  api.post(
    '/payout-batches',
    {
      bodyLimit,
      // The body is read before the session is checked (preHandler): a request without any session
      // cookie is not worth buffering a file for.
      preParsing: async (request, reply) => {
        if ((request.cookies[SESSION_COOKIE] ?? '') === '') return reply.redirect('/dashboard/login', 303);
      },
      errorHandler: (error: FastifyError, request, reply) => {
        if (error.statusCode === 413)
          return sendMessage(
            request,
            reply,
            413,
            'File too large',
            `A payout file may have at most ${batches.limits.maxBytes} bytes. Nothing was created.`,
          );
        return sendMessage(request, reply, error.statusCode ?? 400, 'Not accepted', 'The upload could not be read.');
      },
    },
    async (request, reply) => {
      const who = await permit(deps, request, reply, 'create_payouts');
      if (who === undefined) return reply;
      const file = (request.body as { file?: UploadedPart } | undefined)?.file;
      if (file === undefined || !Buffer.isBuffer(file.data))
        return listPage(request, reply, who, { code: 'file_empty', message: 'Choose a CSV file to upload.' });
      const outcome = await batches.upload(operatorContext(who, request), {
        bytes: file.data,
        filename: file.filename,
      });
      if (outcome.kind === 'refused') return listPage(request, reply, who, outcome.problem);
      return reply.redirect(`/dashboard/payout-batches/${outcome.batch.id}${outcome.created ? '' : '?again=1'}`, 303);
    },
  );

  api.get('/payout-batches/template.csv', async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    return sendCsv(reply, 'payouts-template.csv', templateCsv());
  });

  api.get('/payout-batches/:id', { schema: { params: IdParams('pob') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const batch = await batches.get(who.mode, request.params.id);
    if (batch === undefined)
      return sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode payout file with this id.`);
    const query = (request.query ?? {}) as { again?: string; decided?: string };
    return sendPage(
      request,
      reply,
      { title: `Payout file ${batch.filename ?? batch.id}`, active: 'payout-batches' },
      payoutBatchPage(batch, await batches.rowsOf(batch.id), {
        csrfToken: who.csrfToken,
        // A file has one maker: the operator who uploaded it submits it.
        canSubmit:
          can(who.operator.role, 'create_payouts') &&
          batch.created_by_type === 'operator' &&
          batch.created_by === who.operator.id,
        canApprove: can(who.operator.role, 'approve_payouts'),
        uploadedAgain: query.again === '1',
        ...(query.decided === 'approve' || query.decided === 'reject' ? { decided: query.decided } : {}),
      }),
    );
  });

  async function batchOr404(request: FastifyRequest, reply: FastifyReply, who: SignedInOperator, id: string) {
    const batch = await batches.get(who.mode, id);
    if (batch === undefined)
      sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode payout file with this id.`);
    return batch;
  }

  api.post(
    '/payout-batches/:id/submit',
    { schema: { params: IdParams('pob'), body: CsrfOnlyBody } },
    async (request, reply) => {
      const back = `/dashboard/payout-batches/${request.params.id}`;
      const who = await permitSensitive(deps, request, reply, 'create_payouts', back);
      if (who === undefined) return reply;
      const batch = await batchOr404(request, reply, who, request.params.id);
      if (batch === undefined) return reply;
      const outcome = await batches.submit(operatorContext(who, request), batch);
      switch (outcome.kind) {
        case 'submitted':
        case 'already_submitted':
          return reply.redirect(back, 303);
        case 'invalid':
          return sendMessage(
            request,
            reply,
            409,
            'Not submitted',
            "Checked again, some rows are no longer valid (see the file's page). Nothing was created.",
          );
        case 'not_ready':
          return sendMessage(
            request,
            reply,
            409,
            'Not submitted',
            'The file changed since you looked at it: check its page again.',
          );
        case 'not_maker':
          return sendMessage(
            request,
            reply,
            403,
            'Not submitted',
            'Only the operator who uploaded a file submits it (a file has one maker).',
          );
      }
    },
  );

  api.post(
    '/payout-batches/:id/decide',
    { schema: { params: IdParams('pob'), body: DecideBody } },
    async (request, reply) => {
      const back = `/dashboard/payout-batches/${request.params.id}`;
      const who = await permitSensitive(deps, request, reply, 'approve_payouts', back);
      if (who === undefined) return reply;
      const batch = await batchOr404(request, reply, who, request.params.id);
      if (batch === undefined) return reply;
      const decided = await batches.decideAll(
        operatorContext(who, request),
        batch,
        request.body.decision,
        request.body.reason,
      );
      if (!decided.ok) {
        const [status, message] =
          decided.reason === 'nothing_on_hold'
            ? [409, "None of this file's payouts is waiting for approval."]
            : DECISION_REFUSALS[decided.reason];
        return sendMessage(request, reply, status, 'Not decided', message);
      }
      return reply.redirect(`${back}?decided=${request.body.decision}`, 303);
    },
  );

  api.get('/payout-batches/:id/report.csv', { schema: { params: IdParams('pob') } }, async (request, reply) => {
    const who = await permit(deps, request, reply, 'view_payments');
    if (who === undefined) return reply;
    const batch = await batches.get(who.mode, request.params.id);
    if (batch === undefined)
      return sendMessage(request, reply, 404, 'Not found', `No ${who.mode}-mode payout file with this id.`);
    await writeAudit(deps.db, deps.clock, {
      mode: who.mode,
      actorType: 'operator',
      actorId: who.operator.id,
      action: 'payout_batch.report_downloaded',
      objectType: 'payout_batch',
      objectId: batch.id,
    });
    return sendCsv(reply, `payout-file-${batch.id}.csv`, batchReportCsv(await batches.rowsOf(batch.id)));
  });
}
