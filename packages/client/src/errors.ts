// The gateway's error envelope as typed errors, each with the request id to quote to support.

export interface ErrorEnvelope {
  readonly error: {
    readonly type: string;
    readonly code: string;
    readonly message: string;
    readonly param?: string;
    readonly request_id: string;
  };
}

/** The gateway answered with an error (after any retries the client made). */
export class PaywardenError extends Error {
  readonly status: number;
  readonly code: string;
  readonly type: string;
  readonly param: string | undefined;
  readonly requestId: string | undefined;

  constructor(status: number, envelope: ErrorEnvelope | undefined, requestId: string | undefined) {
    super(envelope?.error.message ?? `The gateway answered ${status}.`);
    this.name = 'PaywardenError';
    this.status = status;
    this.code = envelope?.error.code ?? 'unknown_error';
    this.type = envelope?.error.type ?? 'api_error';
    this.param = envelope?.error.param;
    this.requestId = envelope?.error.request_id ?? requestId;
  }
}

/**
 * The gateway could not be reached or did not answer, after every retry. For a POST the outcome is
 * unknown: retry with the SAME idempotency key (`error.idempotencyKey`) and the gateway replays
 * the first answer if the request did arrive, so nothing is created twice.
 */
export class PaywardenConnectionError extends Error {
  readonly idempotencyKey: string | undefined;
  constructor(message: string, idempotencyKey: string | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'PaywardenConnectionError';
    this.idempotencyKey = idempotencyKey;
  }
}

export function isErrorEnvelope(value: unknown): value is ErrorEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}
