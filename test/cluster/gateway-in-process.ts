// A whole gateway in this process, for the fault tests that need its logs and its metrics: real
// HTTP server, real database, the embedded simulator, workers running.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/log.ts';
import { startGateway, type Gateway } from '../../src/runtime.ts';
import { flutterwaveSignature } from '../../src/providers/flutterwave/webhook.ts';

export interface FaultGateway extends Gateway {
  readonly key: string;
  /** Every log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  createPayment(): Promise<Response>;
  /** A correctly signed Flutterwave webhook with a new transaction id. */
  sendWebhook(txId: number): Promise<Response>;
  metric(name: string): Promise<number>;
  close(): Promise<void>;
}

export async function startFaultGateway(env: Record<string, string>): Promise<FaultGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-fault-'));
  const config = loadConfig({
    PAYWARDEN_DATA_DIR: dataDir,
    PAYWARDEN_PORT: '0',
    PAYWARDEN_SIMULATOR_PORT: '0',
    PAYWARDEN_LOG_LEVEL: 'warn',
    ...env,
  });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  const gateway = await startGateway(config, createLogger(config.logLevel, sink), {
    runWorkers: true,
    sweepIntervalMs: 1_000,
  });
  const { key } = await gateway.services.keys.create({ mode: 'test', name: 'fault' });
  const secretHash = config.providers.flutterwave!.test.credentials.secretHash!.reveal();
  return {
    ...gateway,
    key,
    logs: () => lines,
    createPayment: () =>
      fetch(`${gateway.url}/v1/payments`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        body: JSON.stringify({
          amount: 10_000,
          currency: 'NGN',
          reference: `fault-${randomUUID()}`,
          customer: { email: 'fault@example.com' },
          redirect_url: 'https://merchant.example/r',
        }),
      }),
    sendWebhook(txId) {
      const body = JSON.stringify({
        event: 'charge.completed',
        data: { id: txId, tx_ref: `pay_unknown_${txId}`, amount: 100, currency: 'NGN', status: 'successful' },
        'event.type': 'CARD_TRANSACTION',
      });
      return fetch(`${gateway.url}/webhooks/flutterwave`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'flutterwave-signature': flutterwaveSignature(body, secretHash),
          'verif-hash': secretHash,
        },
        body,
      });
    },
    async metric(name) {
      const text = await (await fetch(`${gateway.url}/metrics`)).text();
      let total = 0;
      for (const line of text.split('\n'))
        if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.split(' ').at(-1));
      return total;
    },
    async close() {
      await gateway.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
