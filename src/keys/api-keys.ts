// API keys (API-1..6). Table `api_keys`: id (key_...), kind (secret | publishable), mode, name,
// lookup (unique, 16 base62 characters taken from the key), secret_hash (HMAC-SHA256 of the whole
// key under a server-side pepper), display_prefix, scopes (space-separated, scopes.ts),
// created_at, last_used_at, expires_at, revoked_at, rolled_to (the key that replaced it),
// expiry_warned_days (lifecycle.ts), signing_secret_sealed (AES-256-GCM, request-signing.ts),
// allowed_networks (comma-separated CIDRs, '' = anywhere).
//
// The key itself is `sk_<mode>_<lookup><secret>` (or `pk_` for a publishable key): 48 base62
// characters, about 285 bits. Because the key is high-entropy, a fast keyed hash is enough (no slow
// KDF needed), and it lets every request be authenticated with one indexed lookup and one
// constant-time compare.
import { createHmac } from 'node:crypto';
import { secretKeyObject } from '../crypto/key-object.ts';
import type { Clock } from '../clock.ts';
import { constantTimeEqual } from '../crypto/compare.ts';
import { createFieldCipher, deriveKey, type FieldCipher, type KeySource } from '../crypto/encryption.ts';
import { Secret } from '../crypto/secret.ts';
import type { Db, DbOrTx, Mode, Tx } from '../db/schema.ts';
import { newId, randomBase62 } from '../ids.ts';
import { writeAudit, type AuditActor } from '../audit/audit.ts';
import { formatCidr, parseCidr, type Cidr } from '../net/addresses.ts';
import { formatScopes, parseScopes, PUBLISHABLE_SCOPE, type RouteScope } from './scopes.ts';
import { checkKeyRequest, DAY_MS, DEFAULT_EXPIRY_DAYS, type CheckedKeyRequest, type KeyRequest } from './key-policy.ts';

const CLI_ACTOR: AuditActor = { actorType: 'cli', actorId: null };

const KEY_PATTERN = /^(sk|pk)_(test|live)_([0-9A-Za-z]{16})([0-9A-Za-z]{32})$/;
const PREFIX_OF_KIND = { secret: 'sk', publishable: 'pk' } as const;
export type KeyKind = keyof typeof PREFIX_OF_KIND;

export interface ApiKeyPrincipal {
  readonly id: string;
  readonly kind: KeyKind;
  readonly mode: Mode;
  readonly name: string;
  readonly scopes: ReadonlySet<RouteScope>;
  readonly expiresAt: number;
  /** Present when the key signs its requests (then every request must be signed). */
  readonly signingSecret: Secret | undefined;
  /** Empty: any address. */
  readonly allowedNetworks: readonly Cidr[];
}

export type AuthResult =
  | { readonly ok: true; readonly principal: ApiKeyPrincipal }
  | { readonly ok: false; readonly reason: 'invalid' | 'expired' | 'revoked' };

export interface ApiKeySummary {
  readonly id: string;
  readonly kind: KeyKind;
  readonly name: string;
  readonly mode: Mode;
  readonly prefix: string;
  readonly createdAt: number;
  readonly lastUsedAt: number | null;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  readonly rolledTo: string | null;
  readonly scopes: readonly RouteScope[];
  readonly signed: boolean;
  readonly allowedNetworks: readonly string[];
}

export interface CreatedKey {
  readonly id: string;
  readonly key: string;
  readonly expiresAt: number;
  /** Shown once, like the key: the HMAC secret of a key that signs its requests. */
  readonly signingSecret?: string;
}

export type RollResult =
  | ({ readonly ok: true; readonly previousExpiresAt: number } & CreatedKey)
  | { readonly ok: false; readonly reason: 'not_found' | 'not_active' | 'already_rolled' };

/** Thrown when create is given a request checkKeyRequest refuses (callers check first). */
export class KeyRequestError extends Error {}

export interface ApiKeyService {
  /** Defaults: a secret key, DEFAULT_SCOPES, DEFAULT_EXPIRY_DAYS, unsigned, from anywhere. */
  create(input: KeyRequest, actor?: AuditActor): Promise<CreatedKey>;
  /** The same, in the caller's transaction (incident rotation: new keys and old keys' end at once). */
  createIn(trx: Tx, input: KeyRequest, actor?: AuditActor): Promise<CreatedKey>;
  authenticate(presented: string): Promise<AuthResult>;
  list(): Promise<ApiKeySummary[]>;
  revoke(id: string, actor?: AuditActor): Promise<boolean>;
  /** A new key like this one; this one keeps working for `overlapSeconds` (at most 7 days). */
  roll(
    id: string,
    options: { overlapSeconds: number; expiresInDays?: number },
    actor?: AuditActor,
  ): Promise<RollResult>;
}

export function createApiKeyService(deps: {
  db: Db;
  /** The stored purpose keys (a master key in tests): the pepper and the signing-secret cipher. */
  masterKey: KeySource;
  clock: Clock;
  /** Seals signing secrets; the one the webhook secrets use (services.ts), else from the master key. */
  cipher?: FieldCipher;
}): ApiKeyService {
  const cipher = deps.cipher ?? createFieldCipher(deps.masterKey);
  const pepper = deriveKey(deps.masterKey, 'api-key-pepper');
  const hash = (key: string) => createHmac('sha256', secretKeyObject(pepper)).update(key).digest('hex');
  // Bound to the key id, so a sealed secret copied onto another key's row does not open.
  const signingAad = (id: string) => `api_key_signing_secret:${id}`;
  // last_used_at is advisory; writing it on every request would turn each read into a write.
  const lastUsedWriteIntervalMs = 60_000;
  const lastUsedCache = new Map<string, number>();

  async function insertKey(
    trx: DbOrTx,
    input: CheckedKeyRequest,
    actor: AuditActor,
    action: string,
  ): Promise<CreatedKey> {
    const lookup = randomBase62(16);
    const key = `${PREFIX_OF_KIND[input.kind]}_${input.mode}_${lookup}${randomBase62(32)}`;
    const id = newId('key');
    const now = deps.clock.nowMs();
    const expiresAt = now + input.expiresInDays * DAY_MS;
    const scopes = input.kind === 'publishable' ? PUBLISHABLE_SCOPE : formatScopes(input.scopes);
    // 256 bits from the CSPRNG, base62 (about 5.95 bits a character).
    const signingSecret = input.signed ? `whsk_${randomBase62(43)}` : undefined;
    const allowed = input.allowedNetworks.map(formatCidr).join(',');
    await trx
      .insertInto('api_keys')
      .values({
        id,
        kind: input.kind,
        mode: input.mode,
        name: input.name,
        lookup,
        secret_hash: hash(key),
        display_prefix: key.slice(0, 12),
        created_at: now,
        last_used_at: null,
        expires_at: expiresAt,
        revoked_at: null,
        scopes,
        rolled_to: null,
        expiry_warned_days: null,
        signing_secret_sealed: signingSecret === undefined ? null : cipher.encrypt(signingSecret, signingAad(id)),
        allowed_networks: allowed,
      })
      .execute();
    await writeAudit(trx, deps.clock, {
      mode: input.mode,
      ...actor,
      action,
      objectType: 'api_key',
      objectId: id,
      details: {
        name: input.name,
        kind: input.kind,
        prefix: key.slice(0, 12),
        scopes,
        expires_at: expiresAt,
        signed: signingSecret !== undefined,
        allowed_networks: allowed,
      },
    });
    return { id, key, expiresAt, ...(signingSecret === undefined ? {} : { signingSecret }) };
  }

  return {
    async create(request, actor = CLI_ACTOR) {
      const checked = checkKeyRequest(request);
      if (!checked.ok) throw new KeyRequestError(checked.message);
      return deps.db.transaction().execute((trx) => insertKey(trx, checked.request, actor, 'api_key.create'));
    },

    async createIn(trx, request, actor = CLI_ACTOR) {
      const checked = checkKeyRequest(request);
      if (!checked.ok) throw new KeyRequestError(checked.message);
      return insertKey(trx, checked.request, actor, 'api_key.create');
    },

    async authenticate(presented) {
      const match = KEY_PATTERN.exec(presented);
      if (match === null) return { ok: false, reason: 'invalid' };
      const row = await deps.db
        .selectFrom('api_keys')
        .selectAll()
        .where('lookup', '=', match[3] ?? '')
        .executeTakeFirst();
      // Compare even when the row is missing, so an unknown key takes as long as a wrong one.
      const storedHash = row?.secret_hash ?? '0'.repeat(64);
      const matches = constantTimeEqual(storedHash, hash(presented));
      if (row === undefined || !matches || row.mode !== match[2] || PREFIX_OF_KIND[row.kind] !== match[1])
        return { ok: false, reason: 'invalid' };
      // Only the holder of the whole key learns whether it was revoked or has expired.
      const now = deps.clock.nowMs();
      if (row.revoked_at !== null && row.revoked_at <= now) return { ok: false, reason: 'revoked' };
      if (row.expires_at === null || row.expires_at <= now) return { ok: false, reason: 'expired' };
      if (now - (lastUsedCache.get(row.id) ?? 0) > lastUsedWriteIntervalMs) {
        lastUsedCache.set(row.id, now);
        await deps.db.updateTable('api_keys').set({ last_used_at: now }).where('id', '=', row.id).execute();
      }
      const scopes: ReadonlySet<RouteScope> =
        row.kind === 'publishable' ? new Set([PUBLISHABLE_SCOPE]) : new Set(parseScopes(row.scopes));
      return {
        ok: true,
        principal: {
          id: row.id,
          kind: row.kind,
          mode: row.mode,
          name: row.name,
          scopes,
          expiresAt: row.expires_at,
          signingSecret:
            row.signing_secret_sealed === null
              ? undefined
              : new Secret(cipher.decrypt(row.signing_secret_sealed, signingAad(row.id))),
          allowedNetworks: splitNetworks(row.allowed_networks).flatMap((n) => parseCidr(n) ?? []),
        },
      };
    },

    async list() {
      const rows = await deps.db.selectFrom('api_keys').selectAll().orderBy('created_at', 'desc').execute();
      return rows.map((r) => ({
        id: r.id,
        kind: r.kind,
        name: r.name,
        mode: r.mode,
        prefix: r.display_prefix,
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        expiresAt: r.expires_at ?? r.created_at,
        revokedAt: r.revoked_at,
        rolledTo: r.rolled_to,
        scopes: r.kind === 'publishable' ? [PUBLISHABLE_SCOPE] : parseScopes(r.scopes),
        signed: r.signing_secret_sealed !== null,
        allowedNetworks: splitNetworks(r.allowed_networks),
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

    async roll(id, { overlapSeconds, expiresInDays = DEFAULT_EXPIRY_DAYS }, actor = CLI_ACTOR) {
      return deps.db.transaction().execute(async (trx): Promise<RollResult> => {
        const old = await trx.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
        if (old === undefined) return { ok: false, reason: 'not_found' };
        const now = deps.clock.nowMs();
        if (old.revoked_at !== null || old.expires_at === null || old.expires_at <= now)
          return { ok: false, reason: 'not_active' };
        if (old.rolled_to !== null) return { ok: false, reason: 'already_rolled' };
        const checked = checkKeyRequest({
          kind: old.kind,
          mode: old.mode,
          name: old.name,
          // A publishable key has its one fixed scope, given by its kind.
          ...(old.kind === 'publishable' ? {} : { scopes: parseScopes(old.scopes) }),
          expiresInDays,
          signed: old.signing_secret_sealed !== null,
          allowedNetworks: splitNetworks(old.allowed_networks),
          overlapSeconds,
        });
        if (!checked.ok) throw new KeyRequestError(checked.message);
        const created = await insertKey(trx, checked.request, actor, 'api_key.roll');
        const previousExpiresAt = Math.min(old.expires_at, now + overlapSeconds * 1000);
        // Guarded: of two rolls at once, one wins and the other's transaction rolls back.
        const moved = await trx
          .updateTable('api_keys')
          // The old key's end is chosen, not a surprise: no more expiry warnings for it.
          .set({ rolled_to: created.id, expires_at: previousExpiresAt, expiry_warned_days: 0 })
          .where('id', '=', id)
          .where('rolled_to', 'is', null)
          .where('revoked_at', 'is', null)
          .executeTakeFirst();
        if (moved.numUpdatedRows !== 1n) throw new KeyRequestError('the key was rolled or revoked meanwhile');
        await writeAudit(trx, deps.clock, {
          mode: old.mode,
          ...actor,
          action: 'api_key.rolled',
          objectType: 'api_key',
          objectId: id,
          details: { rolled_to: created.id, works_until: previousExpiresAt },
        });
        return { ok: true, previousExpiresAt, ...created };
      });
    },
  };
}

function splitNetworks(stored: string): string[] {
  return stored === '' ? [] : stored.split(',');
}
