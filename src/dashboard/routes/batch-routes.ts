// Payout files in the dashboard (OPS-10): upload (the one multipart form: multipart.ts, parsed
// only for this route, within its body limit), the preview of every row, the template and the
// per-row report as CSV downloads. Uploading needs `create_payouts`; the refusals of a file and
// each upload are audited by the batch service.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { writeAudit } from '../../audit/audit.ts';
import { IdParams } from '../../api/schemas.ts';
import { can } from '../../operators/permissions.ts';
import type { FileProblem } from '../../payout-batches/file-check.ts';
import { templateCsv } from '../../payout-batches/parse-file.ts';
import { batchReportCsv } from '../../payout-batches/report.ts';
import {
  permit,
  sendMessage,
  sendPage,
  SESSION_COOKIE,
  type DashboardDeps,
  type SignedInOperator,
} from '../context.ts';
import { parseMultipart, type UploadedPart } from '../multipart.ts';
import { payoutBatchesPage, payoutBatchPage } from '../pages/payout-batches.ts';

const UPLOAD_PATH = '/dashboard/payout-batches';
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
    const again = (request.query as { again?: string } | undefined)?.again === '1';
    return sendPage(
      request,
      reply,
      { title: `Payout file ${batch.filename ?? batch.id}`, active: 'payout-batches' },
      payoutBatchPage(batch, await batches.rowsOf(batch.id), {
        csrfToken: who.csrfToken,
        canSubmit: can(who.operator.role, 'create_payouts'),
        uploadedAgain: again,
      }),
    );
  });

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
