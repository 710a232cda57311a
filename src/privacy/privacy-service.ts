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
import { ERASED, type Keyring, openVersioned, sealVersioned } from './seal.ts';

type EventRow = Selectable<EventsTable>;

export interface PaymentPersonalData {
  readonly email: string;
  readonly name: string | null;
  readonly phone: string | null;
  readonly metadata: Readonly<Record<string, string>>;
}

const field = (column: string, rowId: string) => `payments.${column}:${rowId}`;

/** The payment columns sealed with the customer's key (all written together, under one version). */
export const PAYMENT_SEALED_FIELDS = ['customer_email', 'customer_name', 'customer_phone', 'metadata_json'] as const;
export const paymentFieldContext = field;
export const eventDataContext = (eventId: string) => `events.data_json:${eventId}`;

export function createPrivacyService(deps: { keys: KeySource; clock: Clock; wrapper: KeyWrapper }) {
  const customerKeys = createCustomerKeys({
    wrapper: deps.wrapper,
    indexKey: deriveKey(deps.keys, 'blind-index-v1'),
    clock: deps.clock,
  });

  function sealPayment(key: CustomerKey, paymentId: string, data: PaymentPersonalData) {
    const keyring: Keyring = { current: key.version, keys: new Map([[key.version, key.dataKey]]) };
    const sealed = (column: string, value: string) => sealVersioned(keyring, value, field(column, paymentId));
    return {
      customer_id: key.id,
      customer_email_index: customerKeys.emailIndex(data.email),
      customer_email: sealed('customer_email', data.email),
      customer_name: data.name === null ? null : sealed('customer_name', data.name),
      customer_phone: data.phone === null ? null : sealed('customer_phone', data.phone),
      metadata_json: sealed('metadata_json', JSON.stringify(data.metadata)),
    };
  }

  function openPayment(row: PaymentRow, keys: ReadonlyMap<string, Keyring | null>): PaymentRow {
    if (row.customer_id === null) return row;
    const key = keys.get(row.customer_id) ?? null;
    const opened = (column: 'customer_email' | 'customer_name' | 'customer_phone', value: string | null) =>
      value === null ? null : openVersioned(key, value, field(column, row.id));
    return {
      ...row,
      customer_email: opened('customer_email', row.customer_email) ?? ERASED,
      customer_name: opened('customer_name', row.customer_name),
      customer_phone: opened('customer_phone', row.customer_phone),
      metadata_json: key === null ? '{}' : openVersioned(key, row.metadata_json, field('metadata_json', row.id)),
    };
  }

  async function keysOf(db: DbOrTx, rows: ReadonlyArray<{ customer_id: string | null }>) {
    const ids = rows.map((r) => r.customer_id).filter((id): id is string => id !== null);
    return ids.length === 0 ? new Map<string, Keyring | null>() : customerKeys.load(db, ids);
  }

  return {
    customerKeys,
    async keyForEmail(db: DbOrTx, mode: Mode, email: string): Promise<CustomerKey> {
      return customerKeys.forEmail(db, mode, email);
    },
    sealPayment,
    /** The row as opened, given the personal data it holds (known to the caller, who sealed it or
     * opened it just before): the same fields openPayment gives, without loading the key. */
    withPersonalData(row: PaymentRow, data: PaymentPersonalData): PaymentRow {
      return {
        ...row,
        customer_email: data.email,
        customer_name: data.name,
        customer_phone: data.phone,
        metadata_json: JSON.stringify(data.metadata),
      };
    },
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
      return { data_json: sealVersioned(key, json, eventDataContext(eventId)), customer_id: customerId };
    },
    async openEvents(db: DbOrTx, rows: readonly EventRow[]): Promise<EventRow[]> {
      const keys = await keysOf(db, rows);
      return rows.map((row) => {
        if (row.customer_id === null || row.data_json.startsWith('{')) return row;
        const key = keys.get(row.customer_id) ?? null;
        return {
          ...row,
          data_json:
            key === null
              ? JSON.stringify({ erased: true })
              : openVersioned(key, row.data_json, eventDataContext(row.id)),
        };
      });
    },
  };
}

export type PrivacyService = ReturnType<typeof createPrivacyService>;
