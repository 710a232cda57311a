// API keys (API-1..4). Table `api_keys`: id (key_...), mode, name, lookup (unique, 16 base62
// characters taken from the key), secret_hash (HMAC-SHA256 of the whole key under a server-side
// pepper), display_prefix, created_at, last_used_at, expires_at, revoked_at, scopes (space-separated,
// src/keys/scopes.ts).
//
// The key itself is `sk_<mode>_<lookup><secret>`: 48 base62 characters, about 285 bits. Because
// the key is high-entropy, a fast keyed hash is enough (no slow KDF needed), and it lets every
// request be authenticated with one indexed lookup and one constant-time compare.
import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import { deriveKey } from '../crypto/encryption.ts';
import type { Secret } from '../crypto/secret.ts';
import type { Db, Mode } from '../db/schema.ts';
import { newId, randomBase62 } from '../ids.ts';
import { writeAudit, type AuditActor } from '../audit/audit.ts';
import { DEFAULT_SCOPES, formatScopes, parseScopes, type Scope } from './scopes.ts';

const CLI_ACTOR: AuditActor = { actorType: 'cli', actorId: null };

const KEY_PATTERN = /^sk_(test|live)_([0-9A-Za-z]{16})([0-9A-Za-z]{32})$/;

export interface ApiKeyPrincipal {
  readonly id: string;
  readonly mode: Mode;
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
}

export interface ApiKeySummary {
  readonly id: string;
  readonly name: string;
  readonly mode: Mode;
  readonly prefix: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
  readonly scopes: readonly Scope[];
}

export interface ApiKeyService {
  /** `scopes` defaults to DEFAULT_SCOPES (the common case: payments and their events). */
  create(
    input: { mode: Mode; name: string; scopes?: readonly Scope[] },
    actor?: AuditActor,
  ): Promise<{ id: string; key: string }>;
  authenticate(presented: string): Promise<ApiKeyPrincipal | undefined>;
  list(): Promise<ApiKeySummary[]>;
  revoke(id: string, actor?: AuditActor): Promise<boolean>;
}

export function createApiKeyService(deps: { db: Db; masterKey: Secret; clock: Clock }): ApiKeyService {
  const pepper = deriveKey(deps.masterKey, 'api-key-pepper');
  const hash = (key: string) => createHmac('sha256', pepper).update(key).digest('hex');
  // last_used_at is advisory; writing it on every request would turn each read into a write.
  const lastUsedWriteIntervalMs = 60_000;
  const lastUsedCache = new Map<string, number>();

  return {
    async create({ mode, name, scopes: requested = DEFAULT_SCOPES }, actor = CLI_ACTOR) {
      const scopes = formatScopes(requested);
      if (scopes === '') throw new Error('an API key needs at least one scope');
      const lookup = randomBase62(16);
      const key = `sk_${mode}_${lookup}${randomBase62(32)}`;
      const id = newId('key');
      await deps.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('api_keys')
          .values({
            id,
            mode,
            name,
            lookup,
            secret_hash: hash(key),
            display_prefix: key.slice(0, 12),
            created_at: deps.clock.nowMs(),
            last_used_at: null,
            expires_at: null,
            revoked_at: null,
            scopes,
          })
          .execute();
        await writeAudit(trx, deps.clock, {
          mode,
          ...actor,
          action: 'api_key.create',
          objectType: 'api_key',
          objectId: id,
          details: { name, prefix: key.slice(0, 12), scopes },
        });
      });
      return { id, key };
    },

    async authenticate(presented) {
      const match = KEY_PATTERN.exec(presented);
      if (match === null) return undefined;
      const row = await deps.db
        .selectFrom('api_keys')
        .selectAll()
        .where('lookup', '=', match[2] ?? '')
        .executeTakeFirst();
      // Compare even when the row is missing, so an unknown key takes as long as a wrong one.
      const storedHash = row?.secret_hash ?? '0'.repeat(64);
      const matches = constantTimeEqual(storedHash, hash(presented));
      if (row === undefined || !matches || row.mode !== match[1]) return undefined;
      const now = deps.clock.nowMs();
      if (row.revoked_at !== null && row.revoked_at <= now) return undefined;
      if (row.expires_at !== null && row.expires_at <= now) return undefined;
      if (now - (lastUsedCache.get(row.id) ?? 0) > lastUsedWriteIntervalMs) {
        lastUsedCache.set(row.id, now);
        await deps.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
      }
      return { id: row.id, mode: row.mode, name: row.name, scopes: new Set(parseScopes(row.scopes)) };
    },

    async list() {
      const rows = await deps.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
      return rows.map((r) => ({
        id: r.id,
        name: r.name,
        mode: r.mode,
        prefix: r.display_prefix,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        revokedAt: r.revoked_at,
        scopes: parseScopes(r.scopes),
      }));
    },

    async revoke(id, actor = CLI_ACTOR) {
      return deps.db.transaction().execute(async (trx) => {
        const revoked = await trx
          .updateTable('api_keys')
          .set({ revoked_at: deps.clock.nowMs() })
          .where('id', '=', id)
          .where('revoked_at', 'is', null)
          .returning('mode')
          .executeTakeFirst();
        if (revoked !== undefined)
          await writeAudit(trx, deps.clock, {
            mode: revoked.mode,
            ...actor,
            action: 'api_key.revoke',
            objectType: 'api_key',
            objectId: id,
          });
        return revoked !== undefined;
      });
    },
  };
}
