// GET /v1/payments/:id/receipt and /v1/payouts/:id/receipt (COL-6): the signed receipt of a
// succeeded payment or payout. 404 when the key's mode has no such object, 409
// `receipt_unavailable` while it has not succeeded.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf } from '../api/auth.ts';
import { IdParams } from '../api/schemas.ts';
import { ApiError } from '../errors.ts';
import type { ReceiptService } from './receipt-service.ts';

const PaymentReceiptSchema = Type.Object(
  {
    receipt: Type.Object({
      object: Type.Literal('receipt'),
      version: Type.Integer(),
      object_type: Type.Literal('payment'),
      object_id: Type.String({ description: 'pay_...' }),
      livemode: Type.Boolean(),
      key_id: Type.String({ description: 'rk_...: the receipt key that signed it' }),
      status: Type.Literal('succeeded'),
      amount: Type.Integer({ description: 'minor units' }),
      currency: Type.String(),
      reference: Type.String(),
      provider: Type.String(),
      provider_transaction_id: Type.Union([Type.String(), Type.Null()]),
      succeeded_at: Type.String({ format: 'date-time' }),
    }),
    signature: Type.String({ description: 'HMAC-SHA256 of the canonical JSON of receipt (sorted keys), hex' }),
  },
  { description: 'A signed receipt; verify it as docs/receipts/README.md shows.' },
);

const PayoutReceiptSchema = Type.Object(
  {
    receipt: Type.Object({
      object: Type.Literal('receipt'),
      version: Type.Integer(),
      object_type: Type.Literal('payout'),
      object_id: Type.String({ description: 'po_...' }),
      livemode: Type.Boolean(),
      key_id: Type.String({ description: 'rk_...: the receipt key that signed it' }),
      status: Type.Literal('succeeded'),
      amount: Type.Integer({ description: 'minor units' }),
      currency: Type.String(),
      fee: Type.Union([Type.Integer({ description: 'minor units' }), Type.Null()]),
      reference: Type.String(),
      beneficiary_id: Type.String({ description: 'ben_...' }),
      provider: Type.String(),
      provider_transfer_id: Type.Union([Type.String(), Type.Null()]),
      succeeded_at: Type.String({ format: 'date-time' }),
    }),
    signature: Type.String({ description: 'HMAC-SHA256 of the canonical JSON of receipt (sorted keys), hex' }),
  },
  { description: 'A signed payout receipt; verify it as docs/receipts/README.md shows.' },
);

export function receiptRoutes(app: FastifyInstance, receipts: ReceiptService): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  api.get(
    '/payments/:id/receipt',
    {
      config: { scope: 'payments:read' },
      schema: {
        summary: 'The signed receipt of a succeeded payment.',
        params: IdParams('pay'),
        response: { 200: PaymentReceiptSchema },
      },
    },
    async (request) => {
      const outcome = await receipts.forPayment(contextOf(request).mode, request.params.id);
      if (outcome.ok) return outcome.receipt;
      if (outcome.reason === 'not_found') throw new ApiError('not_found', { message: 'No such payment.' });
      throw new ApiError('receipt_unavailable');
    },
  );
  api.get(
    '/payouts/:id/receipt',
    {
      config: { scope: 'payouts:read' },
      schema: {
        summary: 'The signed receipt of a succeeded payout.',
        params: IdParams('po'),
        response: { 200: PayoutReceiptSchema },
      },
    },
    async (request) => {
      const outcome = await receipts.forPayout(contextOf(request).mode, request.params.id);
      if (outcome.ok) return outcome.receipt;
      if (outcome.reason === 'not_found') throw new ApiError('not_found', { message: 'No such payout.' });
      throw new ApiError('receipt_unavailable');
    },
  );
}
