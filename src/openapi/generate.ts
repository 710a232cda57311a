// The description as a running gateway serves it, for `npm run openapi` (which writes
// docs/openapi.json) and for the test that keeps the committed file equal to it. A throwaway
// test-mode gateway on SQLite is started, because the routes are only known once they are built.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/config.ts';
import { createLogger } from '../log.ts';
import { startGateway } from '../runtime.ts';

export const COMMITTED_OPENAPI_PATH = new URL('../../docs/openapi.json', import.meta.url);

export async function generateOpenApiJson(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'paywarden-openapi-'));
  try {
    const config = loadConfig({
      PAYWARDEN_DATA_DIR: dataDir,
      PAYWARDEN_PORT: '0',
      PAYWARDEN_SIMULATOR_PORT: '0',
      PAYWARDEN_LOG_LEVEL: 'silent',
    });
    const gateway = await startGateway(config, createLogger(config.logLevel), { runWorkers: false });
    try {
      const response = await fetch(`${gateway.url}/v1/openapi.json`);
      return await response.text();
    } finally {
      await gateway.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
