import type { FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';

/** For actions that take no parameters: no body, or an empty JSON object; anything else is refused. */
export async function refuseBody(request: FastifyRequest): Promise<void> {
  const body = request.body;
  if (body === undefined || body === null) return;
  if (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
  const first = typeof body === 'object' ? Object.keys(body)[0] : undefined;
  throw new ApiError('parameter_unknown', { param: first ?? 'body', message: 'This action takes no parameters.' });
}
