// /v1/payout_batches (OPS-10): a file of payouts for the API. The body carries the CSV as text
// (the same columns and checks as the dashboard's upload, and the same batch for the same bytes);
// a valid file is created and submitted in one call, each payout held for approval (rule `batch`)
// by an operator in the dashboard. POST carries the Idempotency-Key like every /v1 POST; sending the
// same file again with a new key answers 200 with the batch it already made.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { contextOf } from '../api/auth.ts';
import { IdParams } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import { PayoutBatchObjectSchema, toPayoutBatchObject } from './batch-object.ts';
import type { PayoutBatchRow, PayoutBatchService } from './batch-service.ts';

/** The largest file the configuration can allow (PAYWARDEN_PAYOUT_FILE_MAX_BYTES), as characters. */
const CSV_MAX_LENGTH = 16 * 1_048_576;

export const PayoutBatchCreateBody = Type.Object(
  {
    csv: Type.String({
      minLength: 1,
      maxLength: CSV_MAX_LENGTH,
      description:
        'The file as UTF-8 text: the header row `amount,currency,beneficiary,reference,narration`, then one payout per row (amount in the main unit, e.g. 2500.50). Its SHA-256 over these UTF-8 bytes names the batch.',
    }),
    filename: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._()-]*$' })),
  },
  { additionalProperties: false },
);

export function payoutBatchRoutes(app: FastifyInstance, deps: { batches: PayoutBatchService }): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const answer = async (batch: PayoutBatchRow) => toPayoutBatchObject(batch, await deps.batches.rowsOf(batch.id));
  const rowsInvalid = async (batch: PayoutBatchRow) => {
    const firsts = (await deps.batches.rowsOf(batch.id))
      .filter((r) => r.errors.length > 0)
      .slice(0, 3)
      .map((r) => `line ${r.line}: ${r.errors.map((e) => e.code).join(', ')}`);
    return new ApiError('payout_file_rows_invalid', {
      param: 'csv',
      message: `${batch.error_count} of ${batch.row_count} rows are not valid (${firsts.join('; ')}); nothing was created. GET /v1/payout_batches/${batch.id} lists every row with its errors.`,
    });
  };

  api.post(
    '/payout_batches',
    {
      config: { scope: 'payouts:write' },
      // JSON escaping can double a file's size (quotes, line breaks); the file's own limit is checked on its bytes.
      bodyLimit: 2 * deps.batches.limits.maxBytes + 4096,
      schema: {
        summary:
          'Create payouts from a CSV file: every row checked first (all or nothing), then each payout held until an operator approves.',
        body: PayoutBatchCreateBody,
        response: { 200: PayoutBatchObjectSchema, 201: PayoutBatchObjectSchema },
      },
    },
    async (request, reply) => {
      const ctx = contextOf(request);
      const uploaded = await deps.batches.upload(ctx, {
        bytes: Buffer.from(request.body.csv, 'utf8'),
        ...(request.body.filename === undefined ? {} : { filename: request.body.filename }),
      });
      if (uploaded.kind === 'refused') {
        const { code, message, line } = uploaded.problem;
        throw new ApiError('payout_file_invalid', {
          param: 'csv',
          message: `${code}: ${message}${line === undefined ? '' : ` (line ${line})`}`,
        });
      }
      if (uploaded.batch.status === 'invalid') throw await rowsInvalid(uploaded.batch);
      const submitted = await deps.batches.submit(ctx, uploaded.batch);
      switch (submitted.kind) {
        case 'submitted':
          return reply.code(201).send(await answer(submitted.batch));
        case 'already_submitted':
          return reply.code(200).send(await answer(submitted.batch));
        case 'invalid':
          throw await rowsInvalid(submitted.batch);
        case 'not_ready':
        case 'not_maker':
          throw new ApiError('payout_batch_conflict', {
            message: `This file is batch ${submitted.batch.id}, uploaded in the dashboard by someone else and waiting there for them to submit it.`,
          });
      }
    },
  );

  api.get(
    '/payout_batches/:id',
    {
      config: { scope: 'payouts:read' },
      schema: {
        summary: 'Read a payout file: its status and every row with its result and payout.',
        params: IdParams('pob'),
        response: { 200: PayoutBatchObjectSchema },
      },
    },
    async (request) => {
      const batch = await deps.batches.get(contextOf(request).mode, request.params.id);
      if (batch === undefined) throw new ApiError('not_found', { message: 'No such payout batch.' });
      return answer(batch);
    },
  );
}
