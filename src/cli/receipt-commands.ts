// `paywarden receipts verify|keys|key|rotate` (COL-6, docs/receipts/README.md).
import type { KeysAtRest } from '../privacy/keys-at-rest.ts';
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { createFieldCipher } from '../crypto/encryption.ts';
import type { DatabaseHandle } from '../db/database.ts';
import type { Mode } from '../db/schema.ts';
import { createReceiptKeyStore } from '../receipts/receipt-keys.ts';
import { createReceiptService, type ReceiptService } from '../receipts/receipt-service.ts';

type WithDatabase = <T>(
  work: (cfg: Config, db: DatabaseHandle, keys: () => Promise<KeysAtRest>) => Promise<T>,
) => Promise<T>;
const CLI_ACTOR = { actorType: 'cli', actorId: null } as const;

/** Checks a receipt (the JSON the API answered) against the gateway's keys. */
export async function verifyReceiptText(
  receipts: ReceiptService,
  text: string,
): Promise<{ ok: boolean; text: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, text: 'Not JSON: pass the body GET /v1/payments/:id/receipt answered.' };
  }
  const check = await receipts.verify(parsed);
  if (check.ok) return { ok: true, text: `Valid receipt, signed by ${check.keyId}.` };
  const why = {
    malformed: 'it is not a receipt (expected {"receipt": {...}, "signature": "<hex>"})',
    unknown_key: 'no key of this gateway (in that mode) has its key_id',
    bad_signature: 'the signature does not match: the receipt was changed or signed elsewhere',
  }[check.reason];
  return { ok: false, text: `INVALID receipt: ${why}.` };
}

export function registerReceiptCommands(program: Command, withDatabase: WithDatabase): void {
  const service = (keys: KeysAtRest, database: DatabaseHandle) =>
    createReceiptService({
      db: database.db,
      keys: createReceiptKeyStore({ db: database.db, cipher: createFieldCipher(keys.purposeKeys), clock: systemClock }),
    });
  const receipts = program.command('receipts').description('signed receipts for succeeded payments');
  receipts
    .command('verify')
    .argument('<file>', 'a receipt as the API answered it (JSON), or - for standard input')
    .action(async (file: string) => {
      const text = readFileSync(file === '-' ? 0 : file, 'utf8');
      await withDatabase(async (_cfg, database, keys) => {
        const result = await verifyReceiptText(service(await keys(), database), text);
        (result.ok ? console.log : console.error)(result.text);
        if (!result.ok) process.exitCode = 1;
      });
    });
  receipts.command('keys').action(async () => {
    await withDatabase(async (_cfg, database, keys) => {
      console.log(['id', 'mode', 'created', 'signs new receipts'].join('\t'));
      for (const k of await service(await keys(), database).keys.list())
        console.log([k.id, k.mode, new Date(k.createdAt).toISOString(), k.signing ? 'yes' : 'no'].join('\t'));
    });
  });
  receipts
    .command('key')
    .description("print one receipt key's secret (base64), for whoever verifies receipts")
    .argument('<id>', 'rk_...')
    .action(async (id: string) => {
      await withDatabase(async (_cfg, database, keys) => {
        const key = await service(await keys(), database).keys.byId(id);
        if (key === undefined) {
          console.error(`No receipt key ${id}.`);
          process.exitCode = 1;
          return;
        }
        console.log(`${key.id} (${key.mode}): ${key.secret.reveal()}`);
      });
    });
  receipts
    .command('rotate')
    .description('make a new signing key for a mode; older keys keep verifying (audited)')
    .addOption(new Option('--mode <mode>', 'test or live').choices(['test', 'live']).default('test'))
    .action(async (opts: { mode: Mode }) => {
      await withDatabase(async (_cfg, database, keys) => {
        const key = await service(await keys(), database).keys.rotate(opts.mode, CLI_ACTOR);
        console.log(
          `New ${opts.mode} receipt key ${key.id}; it signs from now on. Give it to whoever verifies:\n\n  ${key.secret.reveal()}\n`,
        );
      });
    });
}
