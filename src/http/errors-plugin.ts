import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, errorBody, type ErrorCode } from '../errors.ts';
import { describeValidationError } from './validation.ts';
import { isDatabaseUnavailable } from '../db/dialect.ts';

// A PostgreSQL restart or failover takes seconds; providers and merchants retry after this.
const DATABASE_RETRY_AFTER_S = '5';

// Every error leaves in the catalogue's shape with the request id; nothing internal (stack, SQL,
// provider bodies) ever reaches the client (API-9). Unexpected errors are logged in full, here.
export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  code: ErrorCode,
  options: { message?: string; param?: string; headers?: Readonly<Record<string, string>> } = {},
): FastifyReply {
  const body = errorBody(code, request.id, options.message, options.param);
  for (const [name, value] of Object.entries(options.headers ?? {})) void reply.header(name, value);
  return reply.code(new ApiError(code).status).type('application/json; charset=utf-8').send(body);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof ApiError)
      return sendError(reply, request, error.code, {
        message: error.message,
        ...(error.param === undefined ? {} : { param: error.param }),
        headers: error.headers,
      });
    if (error.validation !== undefined) {
      const problem = describeValidationError(error.validation as never, error.validationContext);
      return sendError(reply, request, problem.code, { message: problem.message, param: problem.param });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, request, 'body_too_large');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, request, 'unsupported_media_type');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, request, 'invalid_json', { message: 'The request body is empty; send a JSON object.' });
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(reply, request, 'invalid_json');
      default:
        break;
    }
    if (error instanceof SyntaxError || (error.statusCode === 400 && /JSON/i.test(error.message)))
      return sendError(reply, request, 'invalid_json');
    if (error.statusCode === 429) return sendError(reply, request, 'rate_limited');
    if (error.statusCode === 503) return sendError(reply, request, 'service_unavailable');
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)
      return sendError(reply, request, 'invalid_request');
    if (isDatabaseUnavailable(error)) {
      request.log.error({ alert: 'database_unavailable', err: error.message }, 'database unreachable; answered 503');
      return sendError(reply, request, 'database_unavailable', { headers: { 'retry-after': DATABASE_RETRY_AFTER_S } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, request, 'internal_error');
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, request, 'not_found', {
      message: `No route for ${request.method} ${request.url.split('?')[0] ?? ''}.`,
    }),
  );
}
