// The OpenAPI 3.1 description of /v1, built from the collected routes: the request schemas are the
// ones that validate requests, the success responses are the routes' `schema.response` (which also
// serialise them), the errors come from the one catalogue in src/errors.ts. Nothing here is a
// second copy of an API shape: a route added with schemas appears here as it is.
import { ERRORS, type ErrorCode } from '../errors.ts';
import type { CollectedRoute } from './collect.ts';
import type { WebhookEventDoc } from './webhooks.ts';

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly [key: string]: unknown;
}

/** TypeBox schemas carry symbol keys and may be shared objects; the document gets plain copies. */
export function plainSchema(schema: unknown): JsonSchema {
  return JSON.parse(JSON.stringify(schema)) as JsonSchema;
}

/** `/v1/payments/:id` -> `/v1/payments/{id}` */
export function openApiPath(fastifyUrl: string): string {
  return fastifyUrl.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** A stable operation id from the method and path: `post /v1/payments/:id/cancel` -> `postPaymentsIdCancel`. */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .replace(/^\/v1\//, '')
    .split(/[/_]/)
    .filter((w) => w !== '')
    .map((w) => w.replace(/^:/, ''));
  return [method.toLowerCase(), ...words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))].join('');
}

/** Error codes grouped by their HTTP status, for each response's description. */
function codesByStatus(): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const [code, entry] of Object.entries(ERRORS) as [ErrorCode, (typeof ERRORS)[ErrorCode]][]) {
    byStatus.set(entry.status, [...(byStatus.get(entry.status) ?? []), code]);
  }
  return byStatus;
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['type', 'code', 'message', 'request_id'],
      additionalProperties: false,
      properties: {
        type: { type: 'string', enum: [...new Set(Object.values(ERRORS).map((e) => e.type))].sort() },
        code: { type: 'string', enum: Object.keys(ERRORS).sort(), description: 'Stable; see docs/errors.md.' },
        message: { type: 'string', description: 'For the developer; never carries internals.' },
        param: { type: 'string', description: 'The request field at fault, when there is one.' },
        request_id: { type: 'string', description: 'Quote it to support; also in the `request-id` header.' },
      },
    },
  },
};

function parametersOf(route: CollectedRoute): JsonSchema[] {
  const parameters: JsonSchema[] = [];
  for (const [location, schema] of [
    ['path', route.schema.params],
    ['query', route.schema.querystring],
  ] as const) {
    if (schema === undefined) continue;
    const plain = plainSchema(schema);
    const required = new Set((plain.required as string[] | undefined) ?? []);
    const properties = (plain.properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: location,
        required: location === 'path' || required.has(name),
        ...(typeof description === 'string' ? { description } : {}),
        schema: propertySchema,
      });
    }
  }
  if (route.method === 'POST') parameters.push({ $ref: '#/components/parameters/IdempotencyKey' });
  return parameters;
}

function responsesOf(route: CollectedRoute, errorStatuses: readonly number[]): Record<string, JsonSchema> {
  const responses: Record<string, JsonSchema> = {};
  const declared = (route.schema.response ?? {}) as Record<string, unknown>;
  for (const [status, schema] of Object.entries(declared)) {
    const plain = plainSchema(schema);
    const { description, ...content } = plain;
    responses[status] = {
      description: typeof description === 'string' ? description : 'Success.',
      headers: { 'request-id': { $ref: '#/components/headers/RequestId' } },
      content: { 'application/json': { schema: content } },
    };
  }
  for (const status of errorStatuses) responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  return responses;
}

export interface DocumentInfo {
  readonly version: string;
  readonly webhookEvents: readonly WebhookEventDoc[];
}

export function buildOpenApiDocument(routes: readonly CollectedRoute[], info: DocumentInfo): OpenApiDocument {
  const byStatus = codesByStatus();
  const errorStatuses = [...byStatus.keys()].filter((s) => s >= 400).sort((a, b) => a - b);
  const paths: Record<string, Record<string, unknown>> = {};
  const sorted = [...routes].sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method));
  for (const route of sorted) {
    const path = openApiPath(route.url);
    const schema = route.schema as { summary?: string; description?: string; tags?: string[]; body?: unknown };
    const operation: Record<string, unknown> = {
      operationId: operationIdOf(route.method, route.url),
      ...(schema.summary === undefined ? {} : { summary: schema.summary }),
      ...(schema.description === undefined ? {} : { description: schema.description }),
      tags: schema.tags ?? [route.url.split('/')[2] ?? 'api'],
      security: [{ secretKey: [] }],
      ...(route.scope === undefined ? {} : { 'x-required-scope': route.scope }),
      parameters: parametersOf(route),
      ...(schema.body === undefined
        ? {}
        : { requestBody: { required: true, content: { 'application/json': { schema: plainSchema(schema.body) } } } }),
      responses: responsesOf(route, errorStatuses),
    };
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }

  const errorResponses = Object.fromEntries(
    errorStatuses.map((status) => [
      `Error${status}`,
      {
        description: `Error. Codes with this status: ${(byStatus.get(status) ?? []).map((c) => `\`${c}\``).join(', ')}.`,
        headers: { 'request-id': { $ref: '#/components/headers/RequestId' } },
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      },
    ]),
  );

  return {
    openapi: '3.1.0',
    info: {
      title: 'Paywarden merchant API',
      version: info.version,
      description:
        'Amounts are integers in the currency\u2019s minor unit. Every POST takes an `Idempotency-Key`: a retry with ' +
        'the same key and body replays the first answer; the same key with another body is 422. Lists take `limit` ' +
        '(1-100) and `starting_after` (the last id of the previous page) and answer `{object: "list", data, has_more}`. ' +
        'Errors share one envelope with a stable `code` and the `request_id`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'A gateway in test mode on its defaults' }],
    security: [{ secretKey: [] }],
    paths,
    webhooks: Object.fromEntries(info.webhookEvents.map((event) => [event.type, webhookOperation(event)])),
    components: {
      securitySchemes: {
        secretKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A secret API key, `sk_test_...` or `sk_live_...`, as `Authorization: Bearer <key>`. Each route names ' +
            'the scope it needs in `x-required-scope`.',
        },
      },
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: true,
          description: '1 to 255 printable ASCII characters; reuse it when you retry the same request.',
          schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
        },
      },
      headers: {
        RequestId: { description: 'The request id, also in error bodies.', schema: { type: 'string' } },
        WebhookId: {
          description: 'The event id, the same on every retry: deduplicate on it.',
          schema: { type: 'string' },
        },
        WebhookTimestamp: { description: 'Seconds since the epoch, signed.', schema: { type: 'string' } },
        WebhookSignature: {
          description: 'Space-separated `v1,<base64 HMAC-SHA256>` signatures (two during a secret rotation).',
          schema: { type: 'string' },
        },
      },
      schemas: { Error: ERROR_SCHEMA },
      responses: errorResponses,
    },
  };
}

function webhookOperation(event: WebhookEventDoc): Record<string, unknown> {
  return {
    post: {
      operationId: `event_${event.type.replace('.', '_')}`,
      summary: event.summary,
      description:
        'Sent to your webhook endpoints as a Standard Webhooks request: verify the signature on the raw body with an ' +
        'official `standardwebhooks` library and your endpoint\u2019s `whsec_` secret before you act on it.',
      parameters: [
        { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' } },
        { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' } },
      ],
      requestBody: { required: true, content: { 'application/json': { schema: plainSchema(event.payload) } } },
      responses: {
        '200': { description: 'Any 2xx acknowledges the event; anything else is retried for about a day.' },
      },
    },
  };
}
