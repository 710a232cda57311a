// The payout file tables as Kysely sees them (migration 0015-payout-batches), listed in
// src/db/schema.ts's Database.
import type { Mode } from '../db/schema.ts';

/**
 * invalid: some row (or the file) failed its checks, nothing was created;
 * ready: every row passed, waiting for the maker to submit it;
 * submitted: its payouts exist, each held for approval (rule `batch`).
 */
export type PayoutBatchStatus = 'invalid' | 'ready' | 'submitted';
export type ActorType = 'operator' | 'api_key';

export interface PayoutBatchesTable {
  id: string;
  mode: Mode;
  /** Hex SHA-256 of the file's bytes as received: one batch per file per mode. */
  sha256: string;
  filename: string | null;
  status: PayoutBatchStatus;
  status_reason: string | null;
  row_count: number;
  error_count: number;
  created_by_type: ActorType;
  created_by: string;
  created_at: number;
  submitted_by_type: ActorType | null;
  submitted_by: string | null;
  submitted_at: number | null;
  updated_at: number;
  version: number;
}

export interface PayoutBatchRowsTable {
  batch_id: string;
  row_no: number;
  line: number;
  /** The values exactly as the file had them (neutralised only when shown or exported). */
  amount: string;
  currency: string;
  beneficiary: string;
  reference: string;
  narration: string;
  amount_minor: number | null;
  /** RowError[] as JSON; '[]' for a valid row. */
  errors_json: string;
  payout_id: string | null;
}
