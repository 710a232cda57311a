// The baseline a merchant would write by hand: verify the signature, then one INSERT committed per
// request (SQLite, WAL, synchronous=FULL, the same durability as the gateway), then 200.
import Fastify from 'fastify';
import BetterSqlite3 from 'better-sqlite3';
import { createHmac, timingSafeEqual } from 'node:crypto';

const secretHash = process.env.SECRET_HASH ?? '';
const db = new BetterSqlite3(process.env.DB_PATH ?? ':memory:');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('create table if not exists webhooks (id integer primary key, dedupe text unique, body text)');
const insert = db.prepare('insert or ignore into webhooks (dedupe, body) values (?, ?)');

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
app.post('/webhooks/flutterwave', async (request, reply) => {
  const raw = request.body as Buffer;
  const expected = createHmac('sha256', secretHash).update(raw).digest();
  const given = Buffer.from(String(request.headers['flutterwave-signature'] ?? ''), 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send();
  const event = JSON.parse(raw.toString('utf8')) as { data: { id: number } };
  insert.run(`flutterwave:${event.data.id}`, raw.toString('utf8'));
  return { received: true };
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`READY ${(app.server.address() as { port: number }).port}`);
