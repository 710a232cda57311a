// Table shapes as Kysely sees them. Times are integer milliseconds since the epoch (bigint in
// PostgreSQL, parsed back to number by the dialect), money is integer minor units, booleans and
// enums are text, JSON is text. One set of types serves both dialects.
import type { Generated, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { PayoutBatchesTable, PayoutBatchRowsTable } from '../payout-batches/tables.ts';

export type Mode = 'test' | 'live';
export type PaymentStatus = 'pending' | 'succeeded' | 'failed' | 'requires_review' | 'expired';

export interface ApiKeysTable {
  id: string;
  mode: Mode;
  name: string;
  lookup: string;
  secret_hash: string;
  display_prefix: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  revoked_at: number | null;
  /** Space-separated scopes (src/keys/scopes.ts). */
  scopes: string;
  kind: 'secret' | 'publishable';
  rolled_to: string | null;
  expiry_warned_days: number | null;
  signing_secret_sealed: string | null;
  /** Comma-separated addresses and CIDR ranges; '' means anywhere. */
  allowed_networks: string;
}

export interface RequestSignaturesTable {
  api_key_id: string;
  signature: string;
  expires_at: number;
}

export interface IdempotencyKeysTable {
  api_key_id: string;
  idem_key: string;
  request_hash: string;
  state: 'in_flight' | 'done';
  response_status: number | null;
  response_body: string | null;
  locked_until: number;
  created_at: number;
  expires_at: number;
}

export interface PaymentsTable {
  id: string;
  mode: Mode;
  reference: string;
  amount_minor: number;
  currency: string;
  status: PaymentStatus;
  status_reason: string | null;
  provider: string;
  provider_tx_id: string | null;
  checkout_url: string | null;
  customer_email: string;
  customer_name: string | null;
  customer_phone: string | null;
  redirect_url: string;
  description: string | null;
  metadata_json: string;
  created_at: number;
  updated_at: number;
  expires_at: number;
  next_reconcile_at: number | null;
  reconcile_step: number;
  version: number;
  /** Whose data key seals customer_email, customer_name, customer_phone and metadata_json (null: written before 0012). */
  customer_id: string | null;
  /** Keyed blind index of the email, for look-ups by email without the plaintext. */
  customer_email_index: string | null;
  /** Keyed hash of the client secret a publishable key presents (src/payments/client-secret.ts). */
  client_secret_hash: string | null;
  /** The provider's fee in minor units of `currency`, from its verify answer (0013); null: none reported. */
  provider_fee_minor: number | null;
  /** Until when (ms) one request holds the right to ask the provider for the checkout (0021); null: nobody. */
  checkout_claimed_until: number | null;
  /** The wall-clock expiry sent to the provider, fixed at creation (0021); null: made before 0021. */
  checkout_expires_at: number | null;
}

export interface EventsTable {
  id: string;
  mode: Mode;
  type: string;
  object_id: string;
  data_json: string;
  created_at: number;
  /** Set when data_json is sealed with this customer's data key. */
  customer_id: string | null;
}

export interface AuditLogTable {
  id: string;
  mode: Mode | null;
  actor_type: 'api_key' | 'system' | 'operator' | 'cli';
  actor_id: string | null;
  action: string;
  object_type: string;
  object_id: string;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** success, failure or denied; null on rows written before migration 0003 and by system jobs. */
  result: 'success' | 'failure' | 'denied' | null;
  details_json: string;
  created_at: number;
  /**
   * The hash chain (src/audit/chain.ts): `test`, `live` or `global` (or a frozen lane of migration
   * 0017, `test.1` ... `test.15`); seq 1, 2, ... per chain, 0 and both hashes empty while unsealed.
   */
  chain: string;
  seq: number;
  prev_hash: string;
  hash: string;
  /** The insertion order the sealer follows (migration 0019, given by the database); not hashed. */
  position: number | null;
}

/** The newest sealed row of each audit chain; its row lock serialises sealers (src/audit/sealer.ts). */
export interface AuditChainHeadsTable {
  /** `test`, `live` or `global`, or a frozen lane of migration 0017 (`test.1` ... `test.15`). */
  chain: string;
  seq: number;
  hash: string;
}

/** Ed25519-signed (chain, seq, hash) statements, so rows cut off the end are noticed (src/audit/checkpoints.ts). */
export interface AuditCheckpointsTable {
  id: string;
  /** `test`, `live` or `global`, or a frozen lane of migration 0017 (`test.1` ... `test.15`). */
  chain: string;
  seq: number;
  hash: string;
  signed_at: number;
  key_id: string;
  signature: string;
  /** The checkpoints signed together, one per lane of a mode, in 0017's lanes (null: signed alone). */
  set_id: string | null;
}

/** Rows moved out of audit_log into a JSON-lines file (LOG-4, src/audit/retention.ts). */
export interface AuditArchivesTable {
  id: string;
  /** `test`, `live` or `global`, or a frozen lane of migration 0017 (`test.1` ... `test.15`). */
  chain: string;
  from_seq: number;
  to_seq: number;
  /** The hash the first archived row names as its predecessor, and the hash of the last one. */
  first_prev_hash: string;
  last_hash: string;
  file_name: string;
  file_sha256: string;
  row_count: number;
  newest_created_at: number;
  archived_at: number;
  /** When the file was deleted, past the 12-month retention; the chain then starts after it. */
  expired_at: number | null;
}

/** Per-mode HMAC keys for signed receipts (COL-6), sealed under the master key (src/receipts/). */
export interface ReceiptKeysTable {
  id: string;
  mode: Mode;
  sealed_key: string;
  /** The newest key of a mode signs; older ones keep verifying. */
  created_at: number;
}

export interface ProviderWebhooksTable {
  id: string;
  provider: string;
  mode: Mode;
  dedupe_key: string;
  event_type: string;
  provider_reference: string | null;
  signature_scheme: string;
  body: string;
  received_at: number;
  status: 'received' | 'processed' | 'ignored' | 'failed';
  result: string | null;
  processed_at: number | null;
}

export interface WebhookEndpointsTable {
  id: string;
  mode: Mode;
  url: string;
  events_json: string;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: number;
  deleted_at: number | null;
}

export interface EndpointSecretsTable {
  id: string;
  endpoint_id: string;
  sealed_secret: string;
  created_at: number;
  expires_at: number | null;
}

export interface DeliveriesTable {
  id: string;
  mode: Mode;
  event_id: string;
  endpoint_id: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  next_attempt_at: number | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  created_at: number;
  updated_at: number;
}

export interface DeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: number;
  status_code: number | null;
  latency_ms: number;
  response_excerpt: string | null;
  error: string | null;
}

export interface VerificationsTable {
  id: string;
  payment_id: string;
  attempted_at: number;
  outcome: 'succeeded' | 'failed' | 'pending' | 'mismatch' | 'not_found' | 'indefinite';
  detail_json: string;
  latency_ms: number;
}

export interface JobsTable {
  id: string;
  kind: string;
  payload_json: string;
  status: 'queued' | 'running' | 'done' | 'dead';
  attempts: number;
  max_attempts: number;
  run_at: number;
  lease_until: number | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: number;
  updated_at: number;
}

/** Payouts (src/payouts/state-machine.ts has the transitions). */
export type PayoutStatus =
  | 'pending'
  | 'processing'
  | 'unknown'
  | 'requires_action'
  | 'succeeded'
  | 'failed'
  | 'reversed'
  | 'cancelled'
  | 'requires_review'
  | 'on_hold'
  | 'rejected'
  | 'expired';

export interface BeneficiariesTable {
  id: string;
  mode: Mode;
  type: 'bank_account' | 'mobile_money' | 'connected_account';
  country: string | null;
  currency: string;
  bank_code: string | null;
  bank_name: string | null;
  /** The account number (or connected account id), sealed with the field cipher. */
  account_sealed: string;
  account_last4: string;
  /** account_name, email and metadata_json are sealed with the payload keys (beneficiary-fields.ts). */
  account_name: string;
  email: string | null;
  /** The provider that resolved the account. */
  provider: string;
  metadata_json: string;
  created_at: number;
  deleted_at: number | null;
  /** The holder's name as the merchant gave it (null: not given). */
  given_name: string | null;
  /** Given name against the provider's (src/payouts/controls/name-match.ts); unverified: no look-up exists. */
  name_check: Generated<'match' | 'mismatch' | 'not_given' | 'unverified'>;
}

export interface BeneficiaryRecipientsTable {
  beneficiary_id: string;
  provider: string;
  recipient_code: string;
  created_at: number;
}

export interface PayoutsTable {
  id: string;
  mode: Mode;
  reference: string;
  amount_minor: number;
  currency: string;
  beneficiary_id: string;
  provider: string;
  narration: string | null;
  metadata_json: string;
  status: PayoutStatus;
  status_reason: string | null;
  failure_code: string | null;
  failure_message: string | null;
  provider_transfer_id: string | null;
  fee_minor: number | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  next_check_at: number | null;
  check_step: number;
  version: number;
  /** The hold (src/payouts/controls/holds.ts, HoldRecord as JSON); null: never held. */
  hold_json: string | null;
  /** While on hold: not released before this (cool-down); null once passed or without one. */
  hold_release_at: number | null;
  /** While on hold: expires (never sent) at this time. */
  hold_expires_at: number | null;
}

/** One approver's decision on one held payout (unique per payout and operator). */
export interface PayoutDecisionsTable {
  id: string;
  payout_id: string;
  operator_id: string;
  decision: 'approve' | 'reject';
  reason: string;
  created_at: number;
}

/** The payout rules' thresholds, one row per mode (src/payouts/controls/settings.ts). */
export interface PayoutControlSettingsTable {
  mode: Mode;
  settings_json: string;
  version: number;
  updated_at: number;
  updated_by: string | null;
}

/** created: committed, never sent; sent: sent at least once, no definite answer; accepted: the
 * provider holds it; then a closed state. */
export type PayoutAttemptState = 'created' | 'sent' | 'accepted' | 'succeeded' | 'failed' | 'cancelled';

export interface PayoutAttemptsTable {
  id: string;
  payout_id: string;
  attempt_no: number;
  provider: string;
  reference: string;
  state: PayoutAttemptState;
  sends: number;
  first_sent_at: number | null;
  last_sent_at: number | null;
  accepted_at: number | null;
  provider_transfer_id: string | null;
  provider_status: string | null;
  created_by: string | null;
  created_at: number;
  closed_at: number | null;
}

export interface PayoutChecksTable {
  id: string;
  payout_id: string;
  attempt_id: string | null;
  kind: 'create' | 'query' | 'finalize' | 'recipient' | 'webhook';
  at: number;
  outcome: string;
  detail_json: string;
  latency_ms: number;
}

/** One row per run of a scheduled job and slot (0011): whoever inserts it first enqueues the run. */
export interface ScheduledRunsTable {
  name: string;
  slot: number;
  created_at: number;
}

export interface CustomerKeysTable {
  id: string;
  mode: Mode;
  email_index: string;
  /** Null once erased: everything sealed with it is unreadable everywhere. */
  wrapped_key: string | null;
  wrapped_by: string;
  /** The current version of the customer's data key: what seals from now on (`p2.<version>.`). */
  key_version: Generated<number>;
  created_at: number;
  erased_at: number | null;
  erasure_reason: string | null;
}

/** Superseded versions of a customer's data key, kept wrapped until nothing sealed with them is left. */
export interface CustomerKeyVersionsTable {
  /** `<customer id>.v<version>` */
  id: string;
  customer_id: string;
  version: number;
  wrapped_key: string;
  wrapped_by: string;
  superseded_at: number;
}

export interface DataKeysTable {
  id: string;
  purpose: string;
  wrapped_key: string;
  wrapped_by: string;
  created_at: number;
  retired_at: number | null;
}

export interface MasterKeysTable {
  /** `mk:<fingerprint>` (key-wrapper.ts), never the key. */
  name: string;
  first_used_at: number;
  retired_at: number | null;
}

export interface KeyRotationsTable {
  id: string;
  kind: 'master' | 'payloads' | 'customers';
  /** The master key name or payload key id everything moves to (customers: `new versions`). */
  target: string;
  /** Customers: the mode (`test`, `live`) or the one customer (`cus_...`) rotated; null otherwise. */
  scope: string | null;
  started_at: number;
  finished_at: number | null;
  rows_done: Generated<number>;
  /** Batches done: each batch takes the row's lock and adds one, so no two run the same batch. */
  step: Generated<number>;
  /** Where the next batch starts (JSON, rotation-batch.ts); '' before the first. */
  position: Generated<string>;
}

export interface Database {
  beneficiaries: BeneficiariesTable;
  master_keys: MasterKeysTable;
  key_rotations: KeyRotationsTable;
  beneficiary_recipients: BeneficiaryRecipientsTable;
  payouts: PayoutsTable;
  payout_attempts: PayoutAttemptsTable;
  payout_checks: PayoutChecksTable;
  payout_batches: PayoutBatchesTable;
  payout_batch_rows: PayoutBatchRowsTable;
  payout_decisions: PayoutDecisionsTable;
  payout_control_settings: PayoutControlSettingsTable;
  api_keys: ApiKeysTable;
  request_signatures: RequestSignaturesTable;
  idempotency_keys: IdempotencyKeysTable;
  payments: PaymentsTable;
  events: EventsTable;
  audit_log: AuditLogTable;
  audit_chain_heads: AuditChainHeadsTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_archives: AuditArchivesTable;
  receipt_keys: ReceiptKeysTable;
  provider_webhooks: ProviderWebhooksTable;
  webhook_endpoints: WebhookEndpointsTable;
  endpoint_secrets: EndpointSecretsTable;
  deliveries: DeliveriesTable;
  delivery_attempts: DeliveryAttemptsTable;
  verifications: VerificationsTable;
  jobs: JobsTable;
  backup_runs: BackupRunsTable;
  scheduled_runs: ScheduledRunsTable;
  customer_keys: CustomerKeysTable;
  customer_key_versions: CustomerKeyVersionsTable;
  data_keys: DataKeysTable;
  incidents: IncidentsTable;
  incident_timeline: IncidentTimelineTable;
}

/** MON-3: one security incident, open until closed with its findings and measures recorded. */
export interface IncidentsTable {
  id: string;
  title: string;
  status: 'open' | 'closed';
  opened_at: number;
  closed_at: number | null;
}

/** Every step of an incident, in order: opened, rotated, exported, finding, measure, note, closed. */
export interface IncidentTimelineTable {
  id: string;
  incident_id: string;
  at: number;
  kind: 'opened' | 'rotated' | 'exported' | 'finding' | 'measure' | 'note' | 'closed';
  text: string;
  details_json: string;
}

export interface BackupRunsTable {
  id: string;
  dialect: string;
  location: string;
  started_at: number;
  finished_at: number;
  size_bytes: number;
  /** 'yes' when the copy was opened and found whole, 'no' otherwise (see `error`). */
  verified: 'yes' | 'no';
  counts_json: string;
  error: string | null;
}

/** Services accept either the root handle or a transaction, so callers choose the boundary. */
export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
export type DbOrTx = Db | Tx;

export type PaymentRow = Selectable<PaymentsTable>;
export type JobRow = Selectable<JobsTable>;
export type PayoutRow = Selectable<PayoutsTable>;
export type PayoutAttemptRow = Selectable<PayoutAttemptsTable>;
export type BeneficiaryRow = Selectable<BeneficiariesTable>;
export type NewJob = Insertable<JobsTable>;
export type { Generated };
