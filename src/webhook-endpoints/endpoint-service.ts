// Merchant webhook endpoints and their signing secrets. Secrets are sealed at rest with
// AES-256-GCM (DAT-1), bound to their endpoint id, and shown to the merchant once. Rotation keeps
// the previous secret signing beside the new one for 24 hours (WHO-1), so the merchant can deploy
// the new secret without dropping events.
import type { Clock } from '../clock.ts';
import type { FieldCipher } from '../crypto/encryption.ts';
import type { Db, Mode } from '../db/schema.ts';
import { generateEndpointSecret } from '../delivery/signing.ts';
import { checkDeliveryUrl, describeRefusal } from '../delivery/ssrf.ts';
import { deliveryPolicy } from '../delivery/deliver-job.ts';
import type { Cidr } from '../net/addresses.ts';
import { ApiError } from '../errors.ts';
import { newId } from '../ids.ts';
import { writeAudit, auditActorOf } from '../audit/audit.ts';
import type { RequestContext } from '../payments/payment-service.ts';

export const ROTATION_OVERLAP_MS = 24 * 3_600_000;

export async function activeSecrets(db: Db, cipher: FieldCipher, endpointId: string, nowMs: number): Promise<string[]> {
  const rows = await db
    .selectFrom('endpoint_secrets')
    .select(['sealed_secret', 'created_at'])
    .where('endpoint_id', '=', endpointId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', nowMs)]))
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((r) => cipher.decrypt(r.sealed_secret, endpointId));
}

export function createEndpointService(deps: {
  db: Db;
  clock: Clock;
  cipher: FieldCipher;
  liveEnabled?: boolean;
  testAllowedNetworks?: readonly Cidr[];
}) {
  function toObject(row: {
    id: string;
    mode: Mode;
    url: string;
    events_json: string;
    status: string;
    disabled_reason: string | null;
    created_at: number;
  }) {
    return {
      id: row.id,
      object: 'webhook_endpoint' as const,
      url: row.url,
      events: JSON.parse(row.events_json) as string[],
      status: row.status,
      disabled_reason: row.disabled_reason,
      livemode: row.mode === 'live',
      created_at: new Date(row.created_at).toISOString(),
    };
  }

  async function findLive(mode: Mode, id: string) {
    const row = await deps.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .where('mode', '=', mode)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (row === undefined) throw new ApiError('not_found', { message: 'No such webhook endpoint.' });
    return row;
  }

  return {
    async create(ctx: RequestContext, input: { url: string; events: string[] }) {
      const policy = deliveryPolicy(ctx.mode, deps);
      const check = checkDeliveryUrl(input.url, policy);
      if (!check.ok)
        throw new ApiError('parameter_invalid', { param: 'url', message: describeRefusal(check.reason, policy) });
      const now = deps.clock.nowMs();
      const id = newId('we');
      const secret = generateEndpointSecret();
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('webhook_endpoints')
          .values({
            id,
            mode: ctx.mode,
            url: input.url,
            events_json: JSON.stringify(input.events),
            status: 'enabled',
            disabled_reason: null,
            created_at: now,
            deleted_at: null,
          })
          .execute();
        await trx
          .insertInto('endpoint_secrets')
          .values({
            id: newId('key'),
            endpoint_id: id,
            sealed_secret: deps.cipher.encrypt(secret, id),
            created_at: now,
            expires_at: null,
          })
          .execute();
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'webhook_endpoint.create',
          objectType: 'webhook_endpoint',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
          details: { url: input.url, events: input.events },
        });
      });
      const row = await findLive(ctx.mode, id);
      return { ...toObject(row), secret };
    },

    async list(mode: Mode) {
      const rows = await deps.db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('mode', '=', mode)
        .where('deleted_at', 'is', null)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(toObject);
    },

    async remove(ctx: RequestContext, id: string) {
      await findLive(ctx.mode, id);
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('webhook_endpoints')
          .set({ deleted_at: deps.clock.nowMs() })
          .where('id', '=', id)
          .execute();
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'webhook_endpoint.delete',
          objectType: 'webhook_endpoint',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
        });
      });
      return { id, object: 'webhook_endpoint' as const, deleted: true };
    },

    async rotateSecret(ctx: RequestContext, id: string) {
      const row = await findLive(ctx.mode, id);
      const now = deps.clock.nowMs();
      const secret = generateEndpointSecret();
      await deps.db.transaction().execute(async (trx) => {
        // Older secrets that are still current get the overlap window; ones already expiring keep theirs.
        await trx
          .updateTable('endpoint_secrets')
          .set({ expires_at: now + ROTATION_OVERLAP_MS })
          .where('endpoint_id', '=', id)
          .where('expires_at', 'is', null)
          .execute();
        await trx
          .insertInto('endpoint_secrets')
          .values({
            id: newId('key'),
            endpoint_id: id,
            sealed_secret: deps.cipher.encrypt(secret, id),
            created_at: now,
            expires_at: null,
          })
          .execute();
        await writeAudit(trx, deps.clock, {
          mode: ctx.mode,
          ...auditActorOf(ctx),
          action: 'webhook_endpoint.rotate_secret',
          objectType: 'webhook_endpoint',
          objectId: id,
          requestId: ctx.requestId,
          ip: ctx.ip,
        });
      });
      return {
        ...toObject(row),
        secret,
        previous_secret_expires_at: new Date(now + ROTATION_OVERLAP_MS).toISOString(),
      };
    },
  };
}

export type EndpointService = ReturnType<typeof createEndpointService>;
