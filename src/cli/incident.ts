// `paywarden incident open|rotate|export|note|close|show` (MON-3).
import type { Command } from 'commander';
import { systemClock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { createFieldCipher } from '../crypto/encryption.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { createIncidentService, type IncidentResult, type Rotated } from '../incidents/incident-service.ts';
import { createJobQueue } from '../jobs/queue.ts';
import { createApiKeyService } from '../keys/api-keys.ts';
import { createReceiptKeyStore } from '../receipts/receipt-keys.ts';
import { freeTextProblem } from '../text/free-text.ts';
import type { KeysAtRest } from '../privacy/keys-at-rest.ts';

type WithDatabase = (
  work: (cfg: Config, database: DatabaseHandle, keys: () => Promise<KeysAtRest>) => Promise<void>,
) => Promise<void>;

function service(keys: KeysAtRest, database: DatabaseHandle) {
  const { db, dialect } = database;
  const cipher = createFieldCipher(keys.purposeKeys);
  return createIncidentService({
    db,
    clock: systemClock,
    queue: createJobQueue({ db, dialect, clock: systemClock }),
    keys: createApiKeyService({ db, masterKey: keys.purposeKeys, clock: systemClock }),
    cipher,
    receiptKeys: createReceiptKeyStore({ db, cipher, clock: systemClock }),
    actor: { actorType: 'cli', actorId: null },
  });
}

function report<T>(result: IncidentResult<T>, onOk: (value: T) => string): void {
  if (result.ok) console.log(onOk(result.value));
  else {
    console.error(result.error);
    process.exitCode = 1;
  }
}

function time(text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    console.error(`not a date and time: ${text} (use ISO 8601, e.g. 2026-12-01T00:00:00Z)`);
    process.exit(2);
  }
  return ms;
}

/** What `incident rotate` prints: every new secret once, and what happened to each kind of credential. */
export function describeRotation(r: Rotated): string {
  return [
    'Rotated. These secrets are shown once; deploy them now:',
    ...r.apiKeys.map(
      (k) => `  API key ${k.newId} (${k.mode}) replaces ${k.oldId} (stops ${k.oldStopsAt}):\n    ${k.key}`,
    ),
    ...r.endpointSecrets.map(
      (e) => `  endpoint ${e.endpointId} (${e.mode}) secret (old stops ${e.oldStopsAt}):\n    ${e.secret}`,
    ),
    `  operator sessions ended: ${r.sessionsEnded}`,
    r.receiptKeys.length === 0
      ? '  receipt keys: none to rotate (no receipt issued yet; a mode gets its first key at its first receipt)'
      : `  receipt keys: ${r.receiptKeys
          .map((k) => `${k.newId} (${k.mode}) signs from now on, ${k.oldId} and older still verify earlier receipts`)
          .join('; ')}; give whoever verifies receipts the new key (paywarden receipts key <id>)`,
  ].join('\n');
}

export function registerIncidentCommands(program: Command, withDatabase: WithDatabase): void {
  const incident = program.command('incident').description('security incident response (MON-3); every step audited');
  incident
    .command('open')
    .requiredOption('--title <title>', 'what happened, in a line')
    .action(async (opts: { title: string }) => {
      if (!/^[\p{L}\p{N} .,:;()'/_-]{3,200}$/u.test(opts.title)) {
        console.error('--title must be 3 to 200 letters, digits, spaces or simple punctuation');
        process.exit(2);
      }
      await withDatabase(async (_cfg, database, keys) => {
        const id = await service(await keys(), database).open(opts.title);
        console.log(`Opened ${id}. Your webhook endpoints subscribed to incident.* (or *) are told.`);
      });
    });
  incident
    .command('rotate')
    .argument('<id>', 'the incident (inc_...)')
    .option('--key-overlap-hours <hours>', 'how long the old API keys keep working (0 = stop now)', '24')
    .description(
      'new API keys (old ones stop after the overlap), new endpoint secrets (24 h overlap), new receipt signing keys (older receipts keep verifying), every operator session ended',
    )
    .action(async (id: string, opts: { keyOverlapHours: string }) => {
      const hours = Number(opts.keyOverlapHours);
      if (!Number.isInteger(hours) || hours < 0 || hours > 168) {
        console.error('--key-overlap-hours must be a whole number from 0 to 168');
        process.exit(2);
      }
      await withDatabase(async (_cfg, database, keys) => {
        report(
          await service(await keys(), database).rotate(id, { apiKeyOverlapMs: hours * 3_600_000 }),
          describeRotation,
        );
      });
    });
  incident
    .command('export')
    .argument('<id>', 'the incident (inc_...)')
    .requiredOption('--from <time>', 'start of the window (ISO 8601)')
    .requiredOption('--to <time>', 'end of the window (ISO 8601)')
    .requiredOption('--out <file>', 'where to write the JSON (0600)')
    .description('the audit log, provider webhooks and deliveries of a time window, with its SHA-256 recorded')
    .action(async (id: string, opts: { from: string; to: string; out: string }) => {
      await withDatabase(async (_cfg, database, keys) => {
        report(
          await service(await keys(), database).export(id, time(opts.from), time(opts.to), opts.out),
          (r) =>
            `Wrote ${opts.out}: ${Object.entries(r.counts)
              .map(([k, n]) => `${k} ${n}`)
              .join(', ')}; sha256 ${r.sha256}`,
        );
      });
    });
  incident
    .command('note')
    .argument('<id>', 'the incident (inc_...)')
    .requiredOption('--kind <kind>', 'finding, measure (a preventive measure) or note (the timeline)')
    .requiredOption('--text <text>', 'what to record')
    .action(async (id: string, opts: { kind: string; text: string }) => {
      const textProblem = freeTextProblem('--text', opts.text, 3, 2000);
      if (!['finding', 'measure', 'note'].includes(opts.kind) || textProblem !== undefined) {
        console.error(textProblem ?? '--kind must be finding, measure or note');
        process.exit(2);
      }
      await withDatabase(async (_cfg, database, keys) => {
        report(
          await service(await keys(), database).record(id, opts.kind as 'finding', opts.text),
          () => `Recorded the ${opts.kind}.`,
        );
      });
    });
  incident
    .command('close')
    .argument('<id>', 'the incident (inc_...)')
    .action(async (id: string) => {
      await withDatabase(async (_cfg, database, keys) => {
        report(await service(await keys(), database).close(id), () => `Closed ${id}.`);
      });
    });
  incident
    .command('show')
    .argument('<id>', 'the incident (inc_...)')
    .action(async (id: string) => {
      await withDatabase(async (_cfg, database, keys) => {
        for (const row of await service(await keys(), database).timeline(id))
          console.log(`${new Date(row.at).toISOString()}  ${row.kind.padEnd(8)} ${row.text}`);
      });
    });
}
