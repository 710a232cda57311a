// Payouts brought into a given status the way production gets them there: created through the
// API, a fault of the provider's simulator on their reference, the workers run and the test's
// clock moved on until each payout reaches the status asked for. For the dashboard tests (HTTP and
// browser), which act on payouts in each status an operator can act on.
import type { manualClock } from '../../src/clock.ts';

type ManualClock = ReturnType<typeof manualClock>;
import type { FaultName } from '../../src/simulators/shared/faults.ts';
import type { TestGateway } from './gateway.ts';

export type WantedStatus = 'pending' | 'succeeded' | 'failed' | 'requires_action' | 'requires_review';

/** The fault that leads a payout of `provider` to each status (Paystack alone has the OTP step). */
const FAULT_FOR: Readonly<Record<WantedStatus, FaultName | undefined>> = {
  pending: undefined,
  succeeded: undefined,
  failed: 'insufficient_balance',
  requires_action: 'otp_required',
  // Pending at the provider for ever: the schedule runs out and a person must decide.
  requires_review: 'stuck_pending',
};

export interface PayoutRequest {
  readonly provider: string;
  readonly beneficiary: string;
  readonly currency: string;
  readonly status: WantedStatus;
  readonly reference: string;
  readonly amount?: number;
}

/**
 * Creates the payouts and drives them, in three groups: those meant for review first, moving the
 * clock a day each round until the schedule runs out; then the others with the clock moving only
 * seconds (an OTP is abandoned after 30 minutes); `pending` ones last, so no job ever sends them.
 * Each round waits for the simulators' webhooks and runs the jobs. Returns the ids in the order
 * asked.
 */
export async function payoutsIn(
  gw: TestGateway,
  clock: ManualClock,
  requests: readonly PayoutRequest[],
): Promise<string[]> {
  const ids: string[] = new Array(requests.length);
  const create = async (r: PayoutRequest, i: number) => {
    const created = await gw.api('POST', '/v1/payouts', {
      amount: r.amount ?? 25_000 + i,
      currency: r.currency,
      beneficiary: r.beneficiary,
      reference: r.reference,
    });
    if (created.status !== 201) throw new Error(`payout ${r.reference}: ${JSON.stringify(created.body)}`);
    ids[i] = created.body.id;
    const fault = FAULT_FOR[r.status];
    if (fault === undefined) return;
    const attempt = await gw.services.database.db
      .selectFrom('payout_attempts')
      .select('reference')
      .where('payout_id', '=', created.body.id)
      .executeTakeFirstOrThrow();
    await gw.sim('POST', '/_sim/faults', { fault, reference: attempt.reference, times: 1 }, r.provider);
  };
  const indexed = requests.map((r, i) => [r, i] as const);
  const groups: Array<[readonly (typeof indexed)[number][], number]> = [
    [indexed.filter(([r]) => r.status === 'requires_review'), 24 * 3_600_000],
    [indexed.filter(([r]) => r.status !== 'requires_review' && r.status !== 'pending'), 5_000],
  ];
  for (const [group, stepMs] of groups) {
    for (const [r, i] of group) await create(r, i);
    const providers = [...new Set(group.map(([r]) => r.provider))];
    for (let round = 0; group.length > 0; round += 1) {
      await settle(gw, providers);
      const rows = await Promise.all(group.map(([, i]) => gw.services.payouts.get('test', ids[i]!)));
      if (rows.every((row, k) => row?.status === group[k]![0].status)) break;
      if (round === 40)
        throw new Error(`payouts did not settle: ${rows.map((row) => `${row?.id} ${row?.status}`).join(', ')}`);
      clock.advance(stepMs);
      // The sweep is a schedule of its own (not a job drain() runs): what queues the due checks.
      await gw.services.payoutSweep.sweep();
    }
  }
  for (const [r, i] of indexed.filter(([r]) => r.status === 'pending')) await create(r, i);
  return ids;
}

/** Webhooks the simulators are still posting are waited for (real sockets), then every job runs. */
async function settle(gw: TestGateway, providers: readonly string[]): Promise<void> {
  for (let i = 0; i < 10; i += 1) {
    const hooks = await Promise.all(
      providers.map((p) => gw.sim('GET', '/_sim/webhooks', undefined, p) as Promise<Array<{ done: boolean }>>),
    );
    if (hooks.flat().every((h) => h.done)) {
      if ((await gw.services.worker.drain()) === 0) return;
    } else {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}
