import type { Clock } from '../clock.ts';
import type { AuditLogTable, DbOrTx, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';

// Every state change and privileged action leaves an audit row (LOG-1, LOG-2), written in the
// same transaction as the change itself so the log can never disagree with the data.
export interface AuditEntry {
  readonly mode: Mode | null;
  readonly actorType: AuditLogTable['actor_type'];
  readonly actorId: string | null;
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly requestId?: string | null;
  readonly ip?: string | null;
  readonly details?: Record<string, unknown>;
}

export async function writeAudit(db: DbOrTx, clock: Clock, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      id: newId('aud'),
      mode: entry.mode,
      actor_type: entry.actorType,
      actor_id: entry.actorId,
      action: entry.action,
      object_type: entry.objectType,
      object_id: entry.objectId,
      request_id: entry.requestId ?? null,
      ip: entry.ip ?? null,
      details_json: JSON.stringify(entry.details ?? {}),
      created_at: clock.nowMs(),
    })
    .execute();
}
