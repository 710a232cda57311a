// MON-3: incident response. Open an incident; rotate what may be compromised (API keys with an
// overlap so the merchant's servers can switch, webhook endpoint secrets with the usual 24 h
// overlap, receipt signing keys (older receipts keep verifying by their key id), every operator
// session); export the audit log and webhook records of a time window;
// record findings and preventive measures; close it. Every step is a timeline row and an audit
// row written in one transaction, and the merchant's endpoints get `incident.*` events.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { EVENT_TYPES } from '../api/schemas.ts';
import type { Clock } from '../clock.ts';
import { writeAudit, type AuditActor } from '../audit/audit.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { Db, IncidentTimelineTable, Mode, Tx } from '../db/schema.ts';
import { generateEndpointSecret } from '../delivery/signing.ts';
import { writeEvent } from '../events/outbox.ts';
import { newId } from '../ids.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { ApiKeyService } from '../keys/api-keys.ts';
import type { OperatorTx } from '../operators/schema.ts';
import type { ReceiptKeyStore } from '../receipts/receipt-keys.ts';

/** What the webhook endpoints' own rotation gives the previous secret (src/webhook-endpoints/). */
export const ENDPOINT_SECRET_OVERLAP_MS = 24 * 3_600_000;
const MODES: readonly Mode[] = ['test', 'live'];
type IncidentEventType = Extract<(typeof EVENT_TYPES)[number], `incident.${string}`>;

export interface IncidentDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly queue: JobQueue;
  readonly keys: ApiKeyService;
  readonly cipher: FieldCipher;
  readonly receiptKeys: ReceiptKeyStore;
  readonly actor: AuditActor;
}

export interface Rotated {
  readonly apiKeys: ReadonlyArray<{ oldId: string; newId: string; mode: Mode; key: string; oldStopsAt: string }>;
  readonly endpointSecrets: ReadonlyArray<{ endpointId: string; mode: Mode; secret: string; oldStopsAt: string }>;
  readonly sessionsEnded: number;
  /** A new signing key for each mode that had one; receipts signed before verify by their key id. */
  readonly receiptKeys: ReadonlyArray<{ mode: Mode; oldId: string; newId: string }>;
}

export type IncidentResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function createIncidentService(deps: IncidentDeps) {
  const { db, clock } = deps;

  async function step(
    trx: Tx,
    incidentId: string,
    kind: IncidentTimelineTable['kind'],
    text: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    await trx
      .insertInto('incident_timeline')
      .values({
        id: newId('itl'),
        incident_id: incidentId,
        at: clock.nowMs(),
        kind,
        text,
        details_json: JSON.stringify(details),
      })
      .execute();
    await writeAudit(trx, clock, {
      mode: null,
      ...deps.actor,
      action: `incident.${kind}`,
      objectType: 'incident',
      objectId: incidentId,
      details: { text, ...details },
    });
  }

  /** The merchant's endpoints in both modes hear of it: those subscribed to `*` or `incident.*`. */
  async function notify(
    trx: Tx,
    incidentId: string,
    type: IncidentEventType,
    data: Record<string, unknown>,
  ): Promise<void> {
    for (const mode of MODES)
      await writeEvent(
        trx,
        { queue: deps.queue, clock },
        { mode, type, objectId: incidentId, data: { incident: incidentId, ...data } },
      );
  }

  async function openIncident(incidentId: string): Promise<IncidentResult<{ title: string }>> {
    const row = await db
      .selectFrom('incidents')
      .select(['title', 'status'])
      .where('id', '=', incidentId)
      .executeTakeFirst();
    if (row === undefined) return { ok: false, error: `no incident ${incidentId}` };
    if (row.status !== 'open') return { ok: false, error: `${incidentId} is closed` };
    return { ok: true, value: { title: row.title } };
  }

  const service = {
    async open(title: string): Promise<string> {
      const id = newId('inc');
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('incidents')
          .values({ id, title, status: 'open', opened_at: clock.nowMs(), closed_at: null })
          .execute();
        await step(trx, id, 'opened', title);
        await notify(trx, id, 'incident.opened', { title, opened_at: new Date(clock.nowMs()).toISOString() });
      });
      return id;
    },

    /**
     * One transaction, one audited step: replacement API keys are made and the old keys' end is
     * scheduled, every endpoint secret rotated, every operator session ended, receipt keys
     * replaced, the step recorded and the merchant told. Any failure leaves everything as it was.
     */
    async rotate(incidentId: string, options: { apiKeyOverlapMs: number }): Promise<IncidentResult<Rotated>> {
      const incident = await openIncident(incidentId);
      if (!incident.ok) return incident;
      const now = clock.nowMs();
      const oldStopsAt = now + options.apiKeyOverlapMs;
      const rotated: Rotated = await db.transaction().execute(async (trx) => {
        const active = await trx
          .selectFrom('api_keys')
          .select(['id', 'mode', 'name', 'scopes'])
          .where((eb) => eb.or([eb('revoked_at', 'is', null), eb('revoked_at', '>', now)]))
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .execute();
        const replacements: Array<{ old: (typeof active)[number]; created: { id: string; key: string } }> = [];
        for (const key of active) {
          const created = await deps.keys.createIn(
            trx,
            {
              mode: key.mode,
              name: `${key.name.slice(0, 50)} rotated`,
              scopes: key.scopes.split(' ').filter((s) => s !== '') as never,
            },
            deps.actor,
          );
          replacements.push({ old: key, created });
        }
        for (const { old } of replacements)
          await trx.updateTable('api_keys').set({ revoked_at: oldStopsAt }).where('id', '=', old.id).execute();
        const endpoints = await trx
          .selectFrom('webhook_endpoints')
          .select(['id', 'mode'])
          .where('deleted_at', 'is', null)
          .execute();
        const endpointSecrets = [];
        for (const endpoint of endpoints) {
          const secret = generateEndpointSecret();
          await trx
            .updateTable('endpoint_secrets')
            .set({ expires_at: now + ENDPOINT_SECRET_OVERLAP_MS })
            .where('endpoint_id', '=', endpoint.id)
            .where('expires_at', 'is', null)
            .execute();
          await trx
            .insertInto('endpoint_secrets')
            .values({
              id: newId('key'),
              endpoint_id: endpoint.id,
              sealed_secret: deps.cipher.encrypt(secret, endpoint.id),
              created_at: now,
              expires_at: null,
            })
            .execute();
          endpointSecrets.push({
            endpointId: endpoint.id,
            mode: endpoint.mode,
            secret,
            oldStopsAt: new Date(now + ENDPOINT_SECRET_OVERLAP_MS).toISOString(),
          });
        }
        // The operator tables are typed apart (src/operators/schema.ts); same database, same transaction.
        const ended = await (trx as unknown as OperatorTx)
          .updateTable('operator_sessions')
          .set({ ended_at: now, end_reason: 'incident' })
          .where('ended_at', 'is', null)
          .executeTakeFirst();
        const receiptKeys = [];
        for (const mode of MODES) {
          const old = await trx
            .selectFrom('receipt_keys')
            .select('id')
            .where('mode', '=', mode)
            .orderBy('created_at', 'desc')
            .orderBy('id', 'desc')
            .limit(1)
            .executeTakeFirst();
          // A mode with no key yet has issued no receipt; its first key is made at its first receipt.
          if (old === undefined) continue;
          const made = await deps.receiptKeys.rotateIn(trx, mode, deps.actor);
          receiptKeys.push({ mode, oldId: old.id, newId: made.id });
        }
        const result: Rotated = {
          apiKeys: replacements.map(({ old, created }) => ({
            oldId: old.id,
            newId: created.id,
            mode: old.mode,
            key: created.key,
            oldStopsAt: new Date(oldStopsAt).toISOString(),
          })),
          endpointSecrets,
          sessionsEnded: Number(ended.numUpdatedRows),
          receiptKeys,
        };
        const summary = {
          api_keys: result.apiKeys.map((k) => ({ old: k.oldId, new: k.newId, old_stops_at: k.oldStopsAt })),
          endpoint_secrets: endpointSecrets.map((e) => ({ endpoint: e.endpointId, old_stops_at: e.oldStopsAt })),
          sessions_ended: result.sessionsEnded,
          receipt_keys: receiptKeys.map((k) => ({ mode: k.mode, old: k.oldId, new: k.newId })),
        };
        await step(trx, incidentId, 'rotated', 'credentials rotated', summary);
        await notify(trx, incidentId, 'incident.credentials_rotated', {
          api_keys_rotated: result.apiKeys.length,
          endpoint_secrets_rotated: endpointSecrets.length,
          receipt_keys_rotated: receiptKeys.map((k) => k.newId),
          old_api_keys_stop_at: new Date(oldStopsAt).toISOString(),
          old_endpoint_secrets_stop_at: new Date(now + ENDPOINT_SECRET_OVERLAP_MS).toISOString(),
        });
        return result;
      });
      return { ok: true, value: rotated };
    },

    /**
     * The audit log, provider webhooks and outgoing deliveries of [fromMs, toMs) as one JSON
     * document, and its SHA-256; `recordExport` then writes the step. Apart so the command line
     * records only once its file is written, and the dashboard before it sends the download.
     */
    async buildExport(
      incidentId: string,
      fromMs: number,
      toMs: number,
    ): Promise<IncidentResult<{ text: string; sha256: string; counts: Record<string, number> }>> {
      const incident = await openIncident(incidentId);
      if (!incident.ok) return incident;
      if (!(fromMs < toMs)) return { ok: false, error: 'the start of the window must be before its end' };
      const audit = await db
        .selectFrom('audit_log')
        .selectAll()
        .where('created_at', '>=', fromMs)
        .where('created_at', '<', toMs)
        .orderBy('created_at')
        .execute();
      const webhooks = await db
        .selectFrom('provider_webhooks')
        .selectAll()
        .where('received_at', '>=', fromMs)
        .where('received_at', '<', toMs)
        .orderBy('received_at')
        .execute();
      const deliveries = await db
        .selectFrom('deliveries')
        .selectAll()
        .where('created_at', '>=', fromMs)
        .where('created_at', '<', toMs)
        .orderBy('created_at')
        .execute();
      const text = `${JSON.stringify({ incident: incidentId, from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), audit_log: audit, provider_webhooks: webhooks, deliveries }, null, 2)}\n`;
      const sha256 = createHash('sha256').update(text).digest('hex');
      const counts = { audit_log: audit.length, provider_webhooks: webhooks.length, deliveries: deliveries.length };
      return { ok: true, value: { text, sha256, counts } };
    },

    /** The export step in the timeline: where it went, its hash, its counts and window. */
    async recordExport(
      incidentId: string,
      destination: string,
      built: { sha256: string; counts: Record<string, number> },
      fromMs: number,
      toMs: number,
    ): Promise<void> {
      const details = { sha256: built.sha256, ...built.counts, from: fromMs, to: toMs };
      await db.transaction().execute((trx) => step(trx, incidentId, 'exported', destination, details));
    },

    /** The command line's export: the document written to `file` (0600), then the step. */
    async export(
      incidentId: string,
      fromMs: number,
      toMs: number,
      file: string,
    ): Promise<IncidentResult<{ sha256: string; counts: Record<string, number> }>> {
      const built = await service.buildExport(incidentId, fromMs, toMs);
      if (!built.ok) return built;
      writeFileSync(file, built.value.text, { mode: 0o600 });
      await service.recordExport(incidentId, file, built.value, fromMs, toMs);
      return { ok: true, value: { sha256: built.value.sha256, counts: built.value.counts } };
    },

    async record(
      incidentId: string,
      kind: 'finding' | 'measure' | 'note',
      text: string,
    ): Promise<IncidentResult<null>> {
      const incident = await openIncident(incidentId);
      if (!incident.ok) return incident;
      await db.transaction().execute((trx) => step(trx, incidentId, kind, text));
      return { ok: true, value: null };
    },

    /** Closing needs at least one finding and one preventive measure on record. */
    async close(incidentId: string): Promise<IncidentResult<null>> {
      const incident = await openIncident(incidentId);
      if (!incident.ok) return incident;
      const kinds = new Set(
        (await db.selectFrom('incident_timeline').select('kind').where('incident_id', '=', incidentId).execute()).map(
          (r) => r.kind,
        ),
      );
      if (!kinds.has('finding') || !kinds.has('measure'))
        return { ok: false, error: 'record at least one finding and one preventive measure before closing' };
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('incidents')
          .set({ status: 'closed', closed_at: clock.nowMs() })
          .where('id', '=', incidentId)
          .execute();
        await step(trx, incidentId, 'closed', incident.value.title);
        await notify(trx, incidentId, 'incident.closed', {
          title: incident.value.title,
          closed_at: new Date(clock.nowMs()).toISOString(),
        });
      });
      return { ok: true, value: null };
    },

    /** Newest first, for the dashboard's list. */
    async list() {
      return db
        .selectFrom('incidents')
        .selectAll()
        .orderBy('opened_at', 'desc')
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
    },

    async get(incidentId: string) {
      return db.selectFrom('incidents').selectAll().where('id', '=', incidentId).executeTakeFirst();
    },

    async timeline(incidentId: string) {
      return db
        .selectFrom('incident_timeline')
        .selectAll()
        .where('incident_id', '=', incidentId)
        .orderBy('at')
        .orderBy('id')
        .execute();
    },
  };
  return service;
}

export type IncidentService = ReturnType<typeof createIncidentService>;
