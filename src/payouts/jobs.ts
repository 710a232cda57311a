// The payout jobs: both handlers re-read everything and are safe to run again after a crash.
import type { Logger } from '../log.ts';
import type { PayoutEngine } from './engine.ts';

export function createSubmitPayoutJob(engine: PayoutEngine, logger: Logger) {
  return async (payload: Record<string, unknown>): Promise<void> => {
    const result = await engine.submit(String(payload.attemptId));
    logger.debug({ component: 'payouts', attemptId: payload.attemptId, result }, 'payout submit');
  };
}

export function createCheckPayoutJob(engine: PayoutEngine, logger: Logger) {
  return async (payload: Record<string, unknown>): Promise<void> => {
    const result = await engine.check(String(payload.payoutId), String(payload.trigger ?? 'job'));
    logger.debug({ component: 'payouts', payoutId: payload.payoutId, result }, 'payout check');
  };
}
