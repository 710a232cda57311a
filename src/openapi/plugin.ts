// Serves the description (`/v1/openapi.json`, no key needed: it holds no data) and the reference
// page rendered from it (`/docs/api`). Both are built once, after every route is registered.
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { DASHBOARD_HEADERS } from '../dashboard/security.ts';
import { type CollectedRoute, collectApiRoutes } from './collect.ts';
import { buildOpenApiDocument, type OpenApiDocument } from './document.ts';
import { renderReferencePage } from './reference-page.ts';
import { webhookEventDocs } from './webhooks.ts';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const STYLESHEET = readFileSync(new URL('./reference.css', import.meta.url), 'utf8');

export function describeApi(routes: readonly CollectedRoute[]): OpenApiDocument {
  return buildOpenApiDocument(routes, { version: PACKAGE_VERSION, webhookEvents: webhookEventDocs() });
}

/** Call before the API plugin is registered; the routes are read when the app is ready. */
export function installOpenApi(app: FastifyInstance): void {
  const routes = collectApiRoutes(app);
  let document: string | undefined;
  let page: string | undefined;
  app.addHook('onReady', async () => {
    const described = describeApi(routes);
    document = `${JSON.stringify(described, null, 2)}\n`;
    page = renderReferencePage(described);
  });
  const hidden = { config: { openapi: { hidden: true } } };
  app.get('/v1/openapi.json', hidden, async (_request, reply) =>
    reply.type('application/json; charset=utf-8').send(document),
  );
  app.get('/docs/api', async (_request, reply) =>
    reply.headers(DASHBOARD_HEADERS).type('text/html; charset=utf-8').send(page),
  );
  app.get('/docs/api/reference.css', async (_request, reply) =>
    reply.headers(DASHBOARD_HEADERS).type('text/css; charset=utf-8').send(STYLESHEET),
  );
}
