// Route collection for the OpenAPI description: every /v1 route as Fastify registered it, with the
// same schemas that validate its requests. Registered on the root instance before the API plugin,
// so the hook sees the plugin's routes with their final prefixed URLs.
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';

export interface CollectedRoute {
  readonly method: string;
  /** Fastify's form, e.g. `/v1/payments/:id`. */
  readonly url: string;
  readonly schema: FastifySchema;
  /** The API-key scope the route requires, when the route declares one (`config.scope`). */
  readonly scope: string | undefined;
}

const DOCUMENTED_PREFIX = '/v1/';

export function collectApiRoutes(app: FastifyInstance): readonly CollectedRoute[] {
  const routes: CollectedRoute[] = [];
  app.addHook('onRoute', (options: RouteOptions) => {
    if (!options.url.startsWith(DOCUMENTED_PREFIX)) return;
    const methods = Array.isArray(options.method) ? options.method : [options.method];
    const config = (options.config ?? {}) as { scope?: unknown; openapi?: { hidden?: boolean } };
    if (config.openapi?.hidden === true) return;
    for (const method of methods) {
      // Fastify adds a HEAD twin for every GET; it is the same operation.
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: options.url,
        schema: options.schema ?? {},
        scope: typeof config.scope === 'string' ? config.scope : undefined,
      });
    }
  });
  return routes;
}
