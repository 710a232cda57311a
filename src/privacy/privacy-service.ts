// Where personal data is sealed on the way in and opened on the way out (DAT-1). Payments keep
// the customer's email, name, phone and metadata sealed with the customer's own key, and a blind
// index of the email for look-ups; events about a payment are sealed with the same key, since they
// carry the payment object. Rows written before migration 0012 (customer_id null) are plaintext
// and read as they are.
import type { Clock } from '../clock.ts';
import { deriveKey, type KeySource } from '../crypto/encryption.ts';
import type { DbOrTx, EventsTable, Mode, PaymentRow } from '../db/schema.ts';
import type { Selectable } from 'kysely';
import { type CustomerKey, createCustomerKeys } from './customer-keys.ts';
import type { KeyWrapper } from './key-wrapper.ts';
import { ERASED, open, seal } from './seal.ts';

type EventRow = Selectable<EventsTable>;

export interface PaymentPersonalData {
  readonly email: string;
  readonly name: string | null;
  readonly phone: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

const field = (column: string, rowId: string) => `payments.${column}:${rowId}`;

export function createPrivacyService(deps: { keys: KeySource; clock: Clock; wrapper: KeyWrapper }) {
  const customerKeys = createCustomerKeys({
    wrapper: deps.wrapper,
    indexKey: deriveKey(deps.keys, 'blind-index-v1'),
    clock: deps.clock,
  });

  function sealPayment(key: CustomerKey, paymentId: string, data: PaymentPersonalData) {
    return {
      customer_id: key.id,
      customer_email_index: customerKeys.emailIndex(data.email),
      customer_email: seal(key.dataKey, data.email, field('customer_email', paymentId)),
      customer_name: data.name === null ? null : seal(key.dataKey, data.name, field('customer_name', paymentId)),
      customer_phone: data.phone === null ? null : seal(key.dataKey, data.phone, field('customer_phone', paymentId)),
      metadata_json: seal(key.dataKey, JSON.stringify(data.metadata), field('metadata_json', paymentId)),
    };
  }

  function openPayment(row: PaymentRow, keys: ReadonlyMap<string, Buffer | null>): PaymentRow {
    if (row.customer_id === null) return row;
    const key = keys.get(row.customer_id) ?? null;
    const opened = (column: 'customer_email' | 'customer_name' | 'customer_phone', value: string | null) =>
      value === null ? null : open(key, value, field(column, row.id));
    return {
      ...row,
      customer_email: opened('customer_email', row.customer_email) ?? ERASED,
      customer_name: opened('customer_name', row.customer_name),
      customer_phone: opened('customer_phone', row.customer_phone),
      metadata_json: key === null ? '{}' : open(key, row.metadata_json, field('metadata_json', row.id)),
    };
  }

  async function keysOf(db: DbOrTx, rows: ReadonlyArray<{ customer_id: string | null }>) {
    const ids = rows.map((r) => r.customer_id).filter((id): id is string => id !== null);
    return ids.length === 0 ? new Map<string, Buffer | null>() : customerKeys.load(db, ids);
  }

  return {
    customerKeys,
    async keyForEmail(db: DbOrTx, mode: Mode, email: string): Promise<CustomerKey> {
      return customerKeys.forEmail(db, mode, email);
    },
    sealPayment,
    emailIndex: customerKeys.emailIndex,
    async openPayments(db: DbOrTx, rows: readonly PaymentRow[]): Promise<PaymentRow[]> {
      const keys = await keysOf(db, rows);
      return rows.map((row) => openPayment(row, keys));
    },
    async openPaymentRow(db: DbOrTx, row: PaymentRow): Promise<PaymentRow> {
      return openPayment(row, await keysOf(db, [row]));
    },
    /** The event's data, sealed with the customer's key when it carries their payment. */
    async sealEventData(db: DbOrTx, eventId: string, customerId: string | null, data: unknown) {
      const json = JSON.stringify(data);
      if (customerId === null) return { data_json: json, customer_id: null };
      const key = (await customerKeys.load(db, [customerId])).get(customerId) ?? null;
      // An erased customer's payment can still change state (a late webhook); its event says so without the data.
      if (key === null) return { data_json: JSON.stringify({ erased: true }), customer_id: customerId };
      return { data_json: seal(key, json, `events.data_json:${eventId}`), customer_id: customerId };
    },
    async openEvents(db: DbOrTx, rows: readonly EventRow[]): Promise<EventRow[]> {
      const keys = await keysOf(db, rows);
      return rows.map((row) => {
        if (row.customer_id === null || row.data_json.startsWith('{')) return row;
        const key = keys.get(row.customer_id) ?? null;
        return {
          ...row,
          data_json:
            key === null ? JSON.stringify({ erased: true }) : open(key, row.data_json, `events.data_json:${row.id}`),
        };
      });
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
