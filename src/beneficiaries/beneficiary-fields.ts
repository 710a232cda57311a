// A beneficiary's personal fields at rest (DAT-1): the holder's name (as resolved, and as the
// merchant gave it), the email and the metadata are sealed with the payload keys
// (src/privacy/system-keys.ts: versioned, rotated by `paywarden keys-at-rest rotate payloads`),
// each bound to its row and column, like a customer's fields. Rows are opened here on the way out;
// anything that compares or shows a beneficiary's names (the payout name check, the dashboard,
// the provider call) reads an opened row, from `openBeneficiary` or BeneficiaryStore.get/list.
import type { BeneficiaryRow } from '../db/schema.ts';
import { BENEFICIARY_SEALED_FIELDS, beneficiaryContext } from '../privacy/sealed-columns.ts';
import type { SystemKeys } from '../privacy/system-keys.ts';

type SealedFields = Pick<BeneficiaryRow, (typeof BENEFICIARY_SEALED_FIELDS)[number]>;

export function sealBeneficiaryFields(keys: SystemKeys, id: string, fields: SealedFields): SealedFields {
  const sealed = (column: keyof SealedFields, value: string) => keys.seal(value, beneficiaryContext(column, id));
  return {
    account_name: sealed('account_name', fields.account_name),
    given_name: fields.given_name === null ? null : sealed('given_name', fields.given_name),
    email: fields.email === null ? null : sealed('email', fields.email),
    metadata_json: sealed('metadata_json', fields.metadata_json),
  };
}

/** The row with its personal fields opened (a row stored before sealing reads as it is). */
export async function openBeneficiary<T extends BeneficiaryRow | undefined>(keys: SystemKeys, row: T): Promise<T> {
  if (row === undefined) return row;
  const opened = (column: keyof SealedFields, value: string) => keys.open(value, beneficiaryContext(column, row.id));
  return {
    ...row,
    account_name: await opened('account_name', row.account_name),
    given_name: row.given_name === null ? null : await opened('given_name', row.given_name),
    email: row.email === null ? null : await opened('email', row.email),
    metadata_json: await opened('metadata_json', row.metadata_json),
  };
}
