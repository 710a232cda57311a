// Debian's chromium driven by playwright-core (no browser download). Outside CI a missing
// chromium skips the browser tests with a message; under CI=true it fails them.
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { totpCodeAt } from '../../src/operators/totp.ts';
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

interface SignInOperator {
  readonly email: string;
  readonly password: string;
  readonly totpSecret: string;
}
type StepClock = { advance(ms: number): void; nowMs(): number };

/**
 * Signs `page` in as the operator through the pages: password, then the TOTP code of the next
 * step (a code is single-use, so the clock moves 30 s first).
 */
export async function signInThroughPages(
  page: Page,
  baseUrl: string,
  op: SignInOperator,
  clock: StepClock,
): Promise<void> {
  clock.advance(30_000);
  await page.goto(`${baseUrl}/dashboard/login`);
  await page.fill('input[name=email]', op.email);
  await page.fill('input[name=password]', op.password);
  await page.click('#sign-in button[type=submit]');
  await page.waitForURL('**/dashboard/login/verify');
  await page.fill('input[name=code]', totpCodeAt(op.totpSecret, clock.nowMs()));
  await page.click('#second-factor button[type=submit]');
  await page.waitForURL(`${baseUrl}/dashboard`);
}

/** A new browser context signed in as the operator through the pages (signInThroughPages). */
export async function signedInPage(
  browser: Browser,
  baseUrl: string,
  op: SignInOperator,
  clock: StepClock,
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  page.on('dialog', (dialog) => {
    throw new Error(`a dialog opened: ${dialog.message()}`);
  });
  await signInThroughPages(page, baseUrl, op, clock);
  return page;
}
