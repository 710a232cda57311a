// The same hand-written baseline on PostgreSQL: verify the signature, then one INSERT committed
// per request (autocommit, a pool of 10 connections like the gateway's), then 200.
import Fastify from 'fastify';
import pg from 'pg';
import { createHmac, timingSafeEqual } from 'node:crypto';

const secretHash = process.env.SECRET_HASH ?? '';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
await pool.query('create table if not exists plain_webhooks (id bigserial primary key, dedupe text unique, body text)');

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/webhooks/flutterwave', async (request, reply) => {
  const raw = request.body as Buffer;
  const expected = createHmac('sha256', secretHash).update(raw).digest();
  const given = Buffer.from(String(request.headers['flutterwave-signature'] ?? ''), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send();
  const event = JSON.parse(raw.toString('utf8')) as { data: { id: number } };
  await pool.query('insert into plain_webhooks (dedupe, body) values ($1, $2) on conflict do nothing', [
    `flutterwave:${event.data.id}`,
    raw.toString('utf8'),
  ]);
  return { received: true };
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`READY ${(app.server.address() as { port: number }).port}`);
