export {
  createPaywardenClient,
  type Answer,
  type Beneficiary,
  type Payout,
  type PayoutBatch,
  type BodyOf,
  type ClientOptions,
  type Event,
  type Payment,
  type PaywardenClient,
  type QueryOf,
  type RequestOptions,
  type WebhookEndpoint,
} from './client.ts';
export { PaywardenConnectionError, PaywardenError, type ErrorEnvelope } from './errors.ts';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.ts';
export { verifyWebhook, WebhookVerificationError, type PaywardenEvent, type WebhookHeaders } from './webhooks.ts';
export type { components, operations, paths } from './schema.d.ts';
export { canonicalJson, type SignedReceipt, verifyReceipt } from './receipts.ts';
