// The faults every simulator can inject, with the same names and meaning everywhere, so the shared
// fault suite drives each provider the same way (../README.md documents them).
export const FAULTS = [
  'delay',
  'http_500',
  'http_503',
  'http_429',
  'timeout',
  'duplicate_webhook',
  'out_of_order',
  'wrong_amount',
  'wrong_currency',
  'missing_currency',
  'bad_signature',
  'no_webhook',
  // Payout faults (issue 9 §3; payout-faults.ts and ../README.md "Payout faults").
  'drop_request',
  'lost_answer_timeout',
  'lost_answer_500',
  'lost_answer_reset',
  'duplicate_reference',
  'not_found_after_create',
  'stuck_pending',
  'reversal_after_success',
  'webhook_before_answer',
  'insufficient_balance',
  'otp_required',
] as const;
export type FaultName = (typeof FAULTS)[number];
export const API_FAULTS: readonly FaultName[] = ['delay', 'http_500', 'http_503', 'http_429', 'timeout'];

export interface Fault {
  readonly fault: FaultName;
  /** The one payment (the provider's reference for it) the fault applies to; any when undefined. */
  readonly scope: string | undefined;
  /** Uses left; Infinity for "until cleared". */
  remaining: number;
  readonly value: number | undefined;
}

export type FaultRequest = { ok: true; fault: Fault } | { ok: false; error: string };

/** Reads `POST /_sim/faults` {fault, tx_ref? (or the provider's own name for it), times?, value?}. */
export function parseFaultRequest(body: Record<string, unknown>, scopeFields: readonly string[]): FaultRequest {
  if (!FAULTS.includes(body.fault as FaultName))
    return { ok: false, error: `fault must be one of ${FAULTS.join(', ')}` };
  const times = body.times ?? 1;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < 0)
    return { ok: false, error: 'times must be a whole number (0 = until cleared)' };
  if (body.value !== undefined && (typeof body.value !== 'number' || !Number.isFinite(body.value) || body.value < 0))
    return { ok: false, error: 'value must be a number >= 0' };
  const scopeValue = scopeFields.map((field) => body[field]).find((v) => v !== undefined);
  if (scopeValue !== undefined && typeof scopeValue !== 'string' && typeof scopeValue !== 'number')
    return { ok: false, error: `${scopeFields.join(' / ')} must be a string` };
  return {
    ok: true,
    fault: {
      fault: body.fault as FaultName,
      scope: scopeValue === undefined ? undefined : String(scopeValue),
      remaining: times === 0 ? Number.POSITIVE_INFINITY : times,
      value: body.value as number | undefined,
    },
  };
}

export function createFaultStore() {
  let faults: Fault[] = [];
  return {
    add(fault: Fault): void {
      faults.push(fault);
    },
    /** Takes one use of the first matching fault among `names`, if any. */
    take(names: readonly FaultName[], scope: string | null | undefined): Fault | undefined {
      const fault = faults.find(
        (f) => names.includes(f.fault) && f.remaining > 0 && (f.scope === undefined || f.scope === scope),
      );
      if (fault === undefined) return undefined;
      fault.remaining -= 1;
      faults = faults.filter((f) => f.remaining > 0);
      return fault;
    },
    clear(): void {
      faults = [];
    },
    describe() {
      return faults.map((f) => ({ ...f, remaining: Number.isFinite(f.remaining) ? f.remaining : 'until cleared' }));
    },
  };
}

export type FaultStore = ReturnType<typeof createFaultStore>;
