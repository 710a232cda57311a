// Debian's chromium driven by playwright-core (no browser download). Outside CI a missing
// chromium skips the browser tests with a message; under CI=true it fails them.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { IN_CI } from './services.ts';

export const CHROMIUM_PATH = process.env.PAYWARDEN_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function browserUnavailable(): string | undefined {
  if (existsSync(CHROMIUM_PATH)) return undefined;
  const message = `chromium not found at ${CHROMIUM_PATH} (apt-get install chromium, or set PAYWARDEN_CHROMIUM)`;
  if (IN_CI) throw new Error(`CI needs the browser tests: ${message}`);
  return message;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // Playwright gives each launch a fresh temporary profile. This machine's network is closed:
    // without these flags, chromium keeps trying to reach Google's services.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Where screenshots go: test-results/ by default; `npm run screenshots` points it at docs/. */
export function screenshotDir(): string {
  const dir = resolve(process.env.PAYWARDEN_SCREENSHOT_DIR ?? 'test-results/screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}
