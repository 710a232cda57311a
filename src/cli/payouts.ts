// `paywarden payouts list|show`: payouts for operators at a terminal (the same reads as the API:
// a payout, its attempts with their references, and every provider call with its answer).
import type { Db, Mode, PayoutStatus } from '../db/schema.ts';
import { isId } from '../ids.ts';
import { PAYOUT_STATUSES } from '../payouts/state-machine.ts';

const oneLine = (text: string) => text.replace(/[\u0000-\u001f\u007f]+/g, ' ');
const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

export async function listPayoutsText(
  db: Db,
  options: { mode: Mode; status?: string; limit: number },
): Promise<{ ok: boolean; text: string }> {
  if (options.status !== undefined && !PAYOUT_STATUSES.includes(options.status as PayoutStatus))
    return { ok: false, text: `--status must be one of ${PAYOUT_STATUSES.join(', ')}` };
  let query = db.selectFrom('payouts').selectAll().where('mode', '=', options.mode);
  if (options.status !== undefined) query = query.where('status', '=', options.status as PayoutStatus);
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  if (rows.length === 0) return { ok: true, text: 'No payouts.' };
  return {
    ok: true,
    text: [
      ['id', 'status', 'amount', 'currency', 'provider', 'reference', 'created'].join('\t'),
      ...rows.map((r) =>
        [r.id, r.status, String(r.amount_minor), r.currency, r.provider, oneLine(r.reference), iso(r.created_at)].join(
          '\t',
        ),
      ),
    ].join('\n'),
  };
}

export async function showPayoutText(db: Db, id: string): Promise<{ ok: boolean; text: string }> {
  if (!isId('po', id)) return { ok: false, text: `"${oneLine(id).slice(0, 40)}" is not a payout id (po_...).` };
  const p = await db.selectFrom('payouts').selectAll().where('id', '=', id).executeTakeFirst();
  if (p === undefined) return { ok: false, text: `There is no payout ${id}.` };
  const attempts = await db
    .selectFrom('payout_attempts')
    .selectAll()
    .where('payout_id', '=', id)
    .orderBy('attempt_no')
    .execute();
  const checks = await db
    .selectFrom('payout_checks')
    .selectAll()
    .where('payout_id', '=', id)
    .orderBy('at')
    .orderBy('id')
    .execute();
  const lines = [
    `${p.id} (${p.mode})  ${p.status}${p.status_reason === null ? '' : ` (${oneLine(p.status_reason)})`}`,
    `amount ${p.amount_minor} ${p.currency} minor units to ${p.beneficiary_id} through ${p.provider}`,
    `reference ${oneLine(p.reference)}; provider transfer ${p.provider_transfer_id ?? '-'}`,
    ...(p.failure_code === null ? [] : [`failure ${p.failure_code}: ${oneLine(p.failure_message ?? '')}`]),
    `created ${iso(p.created_at)}, updated ${iso(p.updated_at)}, next check ${iso(p.next_check_at)}`,
    '',
    'Attempts:',
    ['no', 'reference', 'state', 'sends', 'provider status', 'first sent', 'closed'].join('\t'),
    ...attempts.map((a) =>
      [
        String(a.attempt_no),
        a.reference,
        a.state,
        String(a.sends),
        a.provider_status ?? '-',
        iso(a.first_sent_at),
        iso(a.closed_at),
      ].join('\t'),
    ),
    '',
    'Provider calls:',
    ['at', 'kind', 'outcome', 'ms', 'detail'].join('\t'),
    ...checks.map((c) =>
      [iso(c.at), c.kind, oneLine(c.outcome), String(c.latency_ms), oneLine(c.detail_json).slice(0, 200)].join('\t'),
    ),
  ];
  return { ok: true, text: lines.join('\n') };
}
