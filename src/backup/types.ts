export interface BackupCopy {
  readonly location: string;
  readonly sizeBytes: number;
}

/** What opening a backup found: rows per table, and whether it is whole. */
export interface Verification {
  readonly ok: boolean;
  readonly counts: Readonly<Record<string, number>>;
  readonly error?: string;
}
