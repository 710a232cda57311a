// `paywarden customers export|erase`: the same audited service the API uses, acting as the
// command line (no API key): the audit row's actor is `cli`.
import { systemClock } from '../clock.ts';
import type { Db, Mode } from '../db/schema.ts';
import type { KeysAtRest } from '../privacy/keys-at-rest.ts';
import { createErasureJournal } from '../privacy/erasure-journal.ts';
import { createPrivacyService } from '../privacy/privacy-service.ts';
import { createSystemKeys } from '../privacy/system-keys.ts';
import {
  createCustomerDataService,
  type CustomerDataService,
  type CustomerSelector,
  type DataRightsContext,
} from '../privacy/customer-data.ts';
import { newId } from '../ids.ts';

export function cliContext(mode: Mode): DataRightsContext {
  return { mode, apiKeyId: 'cli', requestId: newId('req'), ip: 'cli', actor: { actorType: 'cli', actorId: null } };
}

export function selectorFrom(options: { email?: string; customer?: string }): CustomerSelector | string {
  if ((options.email === undefined) === (options.customer === undefined))
    return 'name the customer by --email or by --customer cus_..., one of the two';
  if (options.customer !== undefined && !/^cus_[0-9A-Za-z]{22}$/.test(options.customer))
    return '--customer takes an id like cus_...';
  return options.email !== undefined ? { email: options.email } : { customerId: options.customer ?? '' };
}

export async function exportCustomerFromCli(customers: CustomerDataService, mode: Mode, who: CustomerSelector) {
  return JSON.stringify(await customers.exportCustomer(cliContext(mode), who), null, 2);
}

export async function eraseCustomerFromCli(
  customers: CustomerDataService,
  mode: Mode,
  who: CustomerSelector,
  reason: string,
): Promise<string> {
  const result = await customers.eraseCustomer(cliContext(mode), who, reason);
  return result.customers.length === 0
    ? 'No such customer.'
    : `Erased ${result.erased.length} customer key(s); ${result.payments.length} payment(s) now show their personal data as erased.`;
}

/** The service as the command line needs it, on the deployment's own database and master key. */
export async function customerDataFor(
  keys: KeysAtRest,
  db: Db,
  erasureJournalPath: string,
): Promise<CustomerDataService> {
  const privacy = createPrivacyService({ keys: keys.purposeKeys, wrapper: keys.wrapper, clock: systemClock });
  const systemKeys = createSystemKeys({ db, wrapper: keys.wrapper, clock: systemClock });
  await systemKeys.init();
  return createCustomerDataService({
    db,
    clock: systemClock,
    privacy,
    systemKeys,
    erasureJournal: createErasureJournal(erasureJournalPath),
  });
}
