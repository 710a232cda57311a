// The one error catalogue (API-9). Every error a client can see has a stable `code` listed here and
// in docs/errors.md (a test keeps the two in step). Messages are written for the merchant's
// developer and never carry internals: no stack, SQL, provider body or secret.

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'idempotency_error'
  | 'rate_limit_error'
  | 'provider_error'
  | 'api_error';

export interface CatalogueEntry {
  readonly status: number;
  readonly type: ErrorType;
  readonly message: string;
}

export const ERRORS = {
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is not valid.' },
  invalid_json: { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON.' },
  invalid_characters: {
    status: 400,
    type: 'invalid_request_error',
    message: 'Free text contains a control, invisible format or separator character.',
  },
  parameter_invalid: { status: 422, type: 'invalid_request_error', message: 'A parameter is not valid.' },
  parameter_missing: { status: 422, type: 'invalid_request_error', message: 'A required parameter is missing.' },
  parameter_unknown: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The request contains a parameter that is not accepted.',
  },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'Send the body as application/json.' },
  body_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large.' },
  not_found: { status: 404, type: 'invalid_request_error', message: 'No such resource.' },
  method_not_allowed: {
    status: 405,
    type: 'invalid_request_error',
    message: 'This method is not allowed on this path.',
  },
  reference_already_used: {
    status: 409,
    type: 'invalid_request_error',
    message: 'This reference belongs to a payment that is pending or has succeeded. Use a new reference.',
  },
  payout_reference_used: {
    status: 409,
    type: 'invalid_request_error',
    message: 'This reference already belongs to a payout (references are never reused). Read that payout instead.',
  },
  payout_country_not_allowed: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The beneficiary is in a country this deployment does not pay out to (payout rules).',
  },
  payout_file_invalid: {
    status: 422,
    type: 'invalid_request_error',
    message:
      'The payout file is not a UTF-8 CSV with the documented header, or exceeds its limits; the message starts with the reason (file_not_text, file_not_utf8, csv_malformed, header_invalid, no_rows, too_many_rows, file_too_large, file_empty).',
  },
  payout_file_rows_invalid: {
    status: 422,
    type: 'invalid_request_error',
    message:
      'Some rows of the payout file are not valid, so nothing was created; the batch lists every row with its errors.',
  },
  payout_batch_conflict: {
    status: 409,
    type: 'invalid_request_error',
    message: 'This payout file is waiting in the dashboard for the operator who uploaded it to submit it.',
  },
  payout_state_conflict: {
    status: 409,
    type: 'invalid_request_error',
    message: "The payout's status does not allow this action.",
  },
  otp_rejected: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The provider refused this code. Check it and try again.',
  },
  currency_not_supported: {
    status: 422,
    type: 'invalid_request_error',
    message: 'No configured provider accepts this currency.',
  },
  amount_below_minimum: {
    status: 400,
    type: 'invalid_request_error',
    message: "The amount is below the provider's minimum charge; the message names the minimum.",
  },
  amount_not_accepted: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The provider cannot charge this exact amount in this currency; the message says which amounts it takes.',
  },
  provider_field_required: {
    status: 400,
    type: 'invalid_request_error',
    message: 'The provider needs a field this request leaves out; the message names the field and the provider.',
  },
  provider_refused_field: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The provider refused a field of this request; the message names the field and why. Nothing was charged.',
  },
  mode_not_enabled: {
    status: 403,
    type: 'invalid_request_error',
    message: 'Live mode is not enabled on this deployment.',
  },
  account_not_resolved: {
    status: 422,
    type: 'invalid_request_error',
    message: 'The provider could not resolve this account number at this bank. Check both.',
  },
  event_not_redeliverable: {
    status: 409,
    type: 'invalid_request_error',
    message: 'This event has no webhook endpoint to redeliver to.',
  },
  receipt_unavailable: {
    status: 409,
    type: 'invalid_request_error',
    message: 'Only a succeeded payment or payout has a receipt; this one has not succeeded.',
  },
  api_key_missing: {
    status: 401,
    type: 'authentication_error',
    message: 'Send your secret key as `Authorization: Bearer sk_...`.',
  },
  api_key_invalid: {
    status: 401,
    type: 'authentication_error',
    message: 'The API key is not valid.',
  },
  scope_missing: {
    status: 403,
    type: 'permission_error',
    message: 'This API key does not have the scope this request needs.',
  },
  api_key_expired: {
    status: 401,
    type: 'authentication_error',
    message: 'This API key has expired (or its roll overlap has ended). Use its replacement, or create a new key.',
  },
  api_key_revoked: {
    status: 401,
    type: 'authentication_error',
    message: 'This API key was revoked.',
  },
  secret_key_from_browser: {
    status: 403,
    type: 'authentication_error',
    message:
      'A secret key was sent from a browser (the request has an Origin header). Secret keys belong on your server; browsers use a publishable key (pk_).',
  },
  origin_not_allowed: {
    status: 403,
    type: 'authentication_error',
    message: 'This origin is not allowed to use publishable keys (PAYWARDEN_PUBLISHABLE_KEY_ORIGINS).',
  },
  address_not_allowed: {
    status: 403,
    type: 'authentication_error',
    message: "This API key may not be used from this address (the key's address allowlist).",
  },
  signature_required: {
    status: 401,
    type: 'authentication_error',
    message: 'This API key signs its requests: send X-API-KEY, X-TIMESTAMP and X-SIGNATURE.',
  },
  signature_invalid: {
    status: 401,
    type: 'authentication_error',
    message:
      "X-SIGNATURE does not match. Sign <timestamp>\\n<METHOD>\\n<path with query>\\n<hex SHA-256 of the exact body> with the key's signing secret.",
  },
  signature_expired: {
    status: 401,
    type: 'authentication_error',
    message: 'X-TIMESTAMP is more than 300 seconds from our clock. Check the clock of the signing machine.',
  },
  signature_replayed: {
    status: 401,
    type: 'authentication_error',
    message: 'This signature was already used. Sign each request afresh.',
  },
  idempotency_key_missing: {
    status: 400,
    type: 'idempotency_error',
    message: 'Every POST needs an `Idempotency-Key` header (1 to 255 printable characters).',
  },
  idempotency_key_invalid: {
    status: 400,
    type: 'idempotency_error',
    message: 'The `Idempotency-Key` header must be 1 to 255 printable ASCII characters.',
  },
  idempotency_key_reused: {
    status: 422,
    type: 'idempotency_error',
    message: 'This Idempotency-Key was already used with a different request body.',
  },
  idempotency_key_in_flight: {
    status: 409,
    type: 'idempotency_error',
    message: 'A request with this Idempotency-Key is still being processed. Retry later.',
  },
  checkout_in_progress: {
    status: 409,
    type: 'idempotency_error',
    message: "Another request is creating this payment's checkout. Retry in a few seconds.",
  },
  rate_limited: {
    status: 429,
    type: 'rate_limit_error',
    message: 'Too many requests. Retry after the time in the Retry-After header.',
  },
  webhook_source_not_allowed: {
    status: 403,
    type: 'authentication_error',
    message: 'Webhooks for this provider are accepted only from its published addresses.',
  },
  webhook_signature_invalid: {
    status: 401,
    type: 'authentication_error',
    message: 'The webhook signature is missing or does not match.',
  },
  provider_unavailable: {
    status: 502,
    type: 'provider_error',
    message:
      'The payment provider could not be reached or did not answer. Nothing was charged; retry with the same Idempotency-Key to resume the payment.',
  },
  provider_rejected: { status: 502, type: 'provider_error', message: 'The payment provider refused the request.' },
  internal_error: {
    status: 500,
    type: 'api_error',
    message: 'Something went wrong on our side. Quote the request id if you contact support.',
  },
  service_unavailable: { status: 503, type: 'api_error', message: 'The gateway is overloaded. Retry shortly.' },
  database_unavailable: {
    status: 503,
    type: 'api_error',
    message:
      'The gateway cannot reach its database for a moment; nothing was recorded. Retry after the time in the Retry-After header.',
  },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;

/** Thrown by routes and services for expected, client-visible failures; mapped by the error handler. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly param: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, options: { message?: string; param?: string; headers?: Record<string, string> } = {}) {
    super(options.message ?? ERRORS[code].message);
    this.code = code;
    this.param = options.param;
    this.headers = options.headers ?? {};
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export interface ErrorBody {
  error: { type: ErrorType; code: ErrorCode; message: string; param?: string; request_id: string };
}

export function errorBody(code: ErrorCode, requestId: string, message?: string, param?: string): ErrorBody {
  const entry = ERRORS[code];
  return {
    error: {
      type: entry.type,
      code,
      message: message ?? entry.message,
      ...(param === undefined ? {} : { param }),
      request_id: requestId,
    },
  };
}
