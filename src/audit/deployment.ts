// Where a deployment keeps what audit verification needs: the checkpoint public key (derived from
// the configured signing key) and the archive directory. Shared by the CLI and doctor.
import { join } from 'node:path';
import type { Config } from '../config/config.ts';
import { checkpointSigner, keyringOf, type CheckpointKeyring } from './signing-key.ts';

export function defaultArchiveDir(config: Pick<Config, 'dataDir'>): string {
  return join(config.dataDir, 'audit-archive');
}

/** The public keys `verify` trusts: the configured signing key's (verification needs no secret). */
export function configuredKeyring(config: Pick<Config, 'auditSigningKey'>): CheckpointKeyring {
  return keyringOf([checkpointSigner(config.auditSigningKey).publicKey]);
}
