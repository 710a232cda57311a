// Real processes for the cluster tests: gateways (`node src/main.ts start`), a Redis server of the
// test's own (never the machine's shared one on 6379), and a TCP proxy that can cut a gateway's
// connections to PostgreSQL without stopping the PostgreSQL other tests use.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

// Generous: on this project's 2-core machines, shared by several test runs, a start can take 30 s.
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

export interface GatewayProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns `paywarden start`; resolves once /healthz answers (or rejects with its stderr if it exits). */
export async function startGatewayProcess(env: Record<string, string>, port: number): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['src/main.ts', 'start'], {
    env: { ...process.env, PAYWARDEN_PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (process.env.CLUSTER_VERBOSE === '1') process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const up = waitFor(`gateway on ${url}`, async () => gone || (await fetch(`${url}/healthz`)).ok);
  const died = exited.then(() => {
    throw new Error(`gateway on port ${port} exited before it was up:\n${stderr}`);
  });
  void died.catch(() => undefined);
  try {
    await Promise.race([up, died]);
  } catch (error) {
    // Never leave a half-started gateway behind (its pipe would keep the test process alive).
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    child,
    exited,
    stderr: () => stderr,
    async kill(signal = 'SIGKILL') {
      if (gone) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** A redis-server of the test's own, on a free port, with no persistence. */
export async function startRedis(port?: number): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const chosen = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-redis-'));
  const child = spawn(
    'redis-server',
    ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitFor(
    `redis on ${chosen}`,
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(chosen, '127.0.0.1', () => {
          socket.write('PING\r\n');
        });
        socket.once('data', (data) => {
          socket.destroy();
          resolve(data.toString().startsWith('+PONG'));
        });
        socket.once('error', () => resolve(false));
      }),
  );
  return {
    url: `redis://127.0.0.1:${chosen}`,
    port: chosen,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * A TCP proxy in front of PostgreSQL. `cut()` closes every connection through it and refuses new
 * ones (what a gateway sees when the database restarts or the network drops); `restore()` accepts
 * again.
 */
export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1') {
  const sockets = new Set<Socket>();
  let open = true;
  const server: Server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connections: () => sockets.size / 2,
    cut() {
      open = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      open = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        open = false;
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same PostgreSQL URL, reached through a proxy on `port`. */
export function throughProxy(postgresUrl: string, port: number): string {
  const url = new URL(postgresUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}
