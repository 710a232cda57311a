import type { FastifyInstance } from 'fastify';

/** Starts a simulator on loopback (port 0: any free port); the URL has no trailing slash. */
export async function listenSimulator(
  app: FastifyInstance,
  host = '127.0.0.1',
  port = 0,
): Promise<{ url: string; app: FastifyInstance; close(): Promise<void> }> {
  await app.listen({ host, port });
  const address = app.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : 0;
  return { url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`, app, close: () => app.close() };
}
