// The ceiling: the same HTTP stack (Fastify 5 on this Node) answering a constant, measured in the
// same run as the gateway so the ratio is fair on whatever machine runs it.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post('/hello', async () => ({ received: true }));
app.get('/hello', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
console.log(`READY ${(app.server.address() as { port: number }).port}`);
