import { AsyncLocalStorage } from 'node:async_hooks';
import type { CompiledQuery } from 'kysely';
import type { Clock } from '../clock.ts';
import type { AuditLogTable, DbOrTx, Mode } from '../db/schema.ts';
import { newId } from '../ids.ts';
import { insertUnsealed, type UnchainedAuditRow, unsealedInsert } from './chain.ts';

// Every state change and privileged action leaves an audit row (LOG-1, LOG-2), written in the
// same transaction as the change itself so the log can never disagree with the data.
export interface AuditEntry extends AuditActor {
  readonly mode: Mode | null;
  readonly action: string;
  readonly objectType: string;
  readonly objectId: string;
  readonly requestId?: string | null;
  readonly ip?: string | null;
  readonly userAgent?: string | null;
  /** Defaults to success: most rows are written in the transaction of the change they record. */
  readonly result?: 'success' | 'failure' | 'denied';
  readonly details?: Record<string, unknown>;
}

/** Who made a change, for the audit row written with it (LOG-2). */
export interface AuditActor {
  readonly actorType: AuditLogTable['actor_type'];
  readonly actorId: string | null;
}

/** Who is asking, for every audit row written while a dashboard request is handled. */
export interface RequestMeta {
  readonly requestId: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

// The dashboard runs each handler inside its request's meta, so the account service and the other
// services record the request id and user agent without threading them through every signature.
// Values given explicitly in an entry win.
const requestMeta = new AsyncLocalStorage<RequestMeta>();

export function withRequestMeta<T>(meta: RequestMeta, work: () => T): T {
  return requestMeta.run(meta, work);
}

const MAX_USER_AGENT_LENGTH = 512;

/**
 * Writes one audit row, unsealed: the sealer links it into its mode's chain once it has committed
 * (src/audit/chain.ts, sealer.ts). Inside a transaction it joins that transaction, so the row
 * commits or rolls back with the change it records.
 */
export async function writeAudit(db: DbOrTx, clock: Clock, entry: AuditEntry): Promise<void> {
  await insertUnsealed(db, [unchainedRow(clock, entry, requestMeta.getStore())]);
}

/** writeAudit's insert, compiled, for callers that send it with other writes (transaction-writes.ts). */
export function auditWrite(db: DbOrTx, clock: Clock, entry: AuditEntry): CompiledQuery {
  return unsealedInsert(db, [unchainedRow(clock, entry, requestMeta.getStore())]).compile();
}

/** Who read what, for a sensitive read (LOG-3): customer details, beneficiaries, exports. */
export interface AuditReadEntry extends AuditActor {
  readonly mode: Mode | null;
  /** `payment`, `beneficiary`, `customer_export`, ...: the row's action is `<objectType>.read`. */
  readonly objectType: string;
  /** Every object whose sensitive fields the answer shows; one audit row each, written together. */
  readonly objectIds: readonly string[];
  /** Why or where (e.g. `{ via: 'api' }`); object ids and enums only, never the personal data read. */
  readonly details?: Record<string, unknown>;
  /** For reads outside a dashboard request (the API), where no request meta is set. */
  readonly requestId?: string | null;
  readonly ip?: string | null;
}

/**
 * The read entry for an API request: the key (or operator) as actor, the request's id and address,
 * and the route (never the query, which may hold an email).
 */
export function apiRead(
  ctx: {
    readonly mode: Mode;
    readonly apiKeyId: string;
    readonly operatorId?: string;
    readonly requestId: string;
    readonly ip: string;
  },
  objectType: string,
  objectIds: readonly string[],
  route: string | undefined,
): AuditReadEntry {
  return {
    mode: ctx.mode,
    ...auditActorOf(ctx),
    objectType,
    objectIds,
    details: { via: 'api', route: route ?? null },
    requestId: ctx.requestId,
    ip: ctx.ip,
  };
}

/** `auditRead` bound to a database and clock, for routes (the API's sensitive reads). */
export type AuditReads = (entry: AuditReadEntry) => Promise<void>;

/** The API's read auditor: records the key (or operator), request id and address of each read. */
export function apiReadAuditor(db: DbOrTx, clock: Clock): AuditReads {
  return (entry) => auditRead(db, clock, entry);
}

/**
 * LOG-3: records a sensitive read before its answer leaves. One row per object (so the audit page's
 * object filter finds every read of one payment), inserted in one statement.
 */
export async function auditRead(db: DbOrTx, clock: Clock, entry: AuditReadEntry): Promise<void> {
  if (entry.objectIds.length === 0) return;
  const meta = requestMeta.getStore();
  const rows = entry.objectIds.map((objectId) =>
    unchainedRow(
      clock,
      {
        mode: entry.mode,
        actorType: entry.actorType,
        actorId: entry.actorId,
        action: `${entry.objectType}.read`,
        objectType: entry.objectType,
        objectId,
        ...(entry.details === undefined ? {} : { details: entry.details }),
        ...(entry.requestId === undefined ? {} : { requestId: entry.requestId }),
        ...(entry.ip === undefined ? {} : { ip: entry.ip }),
      },
      meta,
    ),
  );
  await insertUnsealed(db, rows);
}

function unchainedRow(clock: Clock, entry: AuditEntry, meta: RequestMeta | undefined): UnchainedAuditRow {
  return {
    id: newId('aud'),
    mode: entry.mode,
    actor_type: entry.actorType,
    actor_id: entry.actorId,
    action: entry.action,
    object_type: entry.objectType,
    object_id: entry.objectId,
    request_id: entry.requestId ?? meta?.requestId ?? null,
    ip: entry.ip ?? meta?.ip ?? null,
    user_agent: (entry.userAgent ?? meta?.userAgent ?? null)?.slice(0, MAX_USER_AGENT_LENGTH) ?? null,
    result: entry.result ?? 'success',
    details_json: JSON.stringify(entry.details ?? {}),
    created_at: clock.nowMs(),
  };
}

/** The actor of an API or dashboard request: the operator when one acts, else the API key. */
export function auditActorOf(ctx: { readonly apiKeyId: string; readonly operatorId?: string }): {
  actorType: AuditLogTable['actor_type'];
  actorId: string;
} {
  return ctx.operatorId === undefined
    ? { actorType: 'api_key', actorId: ctx.apiKeyId }
    : { actorType: 'operator', actorId: ctx.operatorId };
}
