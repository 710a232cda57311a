// `paywarden operators create|list|unlock`: the first owner's enrolment link, and recovery when no
// owner can sign in (an invitation, or ending a lockout). The link is printed once; only its hash
// is stored.
import type { OperatorService } from '../operators/accounts.ts';
import { OPERATOR_ERROR_MESSAGES } from '../operators/accounts.ts';
import { isOperatorRole } from '../operators/schema.ts';

export async function createOperatorInvite(
  operators: OperatorService,
  publicUrl: string,
  input: { email: string; role: string },
): Promise<{ ok: true; text: string } | { ok: false; text: string }> {
  if (!isOperatorRole(input.role))
    return { ok: false, text: `--role must be one of owner, admin, developer, finance, viewer (got "${input.role}").` };
  const outcome = await operators.inviteFromCli({ email: input.email, role: input.role });
  if (!outcome.ok) {
    const why =
      outcome.error === 'forbidden'
        ? 'The first operator must be an owner (--role owner).'
        : OPERATOR_ERROR_MESSAGES[outcome.error];
    return { ok: false, text: why };
  }
  const link = `${publicUrl}/dashboard/enrol/${outcome.token}`;
  return {
    ok: true,
    text: [
      `Invitation for ${input.email} (${input.role}). Open this link to set a password and an authenticator app.`,
      `It works once and expires at ${new Date(outcome.expiresAt).toISOString()}; it is not shown again:`,
      '',
      `  ${link}`,
      '',
    ].join('\n'),
  };
}

export async function listOperators(operators: OperatorService): Promise<string> {
  const rows = await operators.list();
  const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
  return [
    ['id', 'email', 'name', 'role', 'second factor', 'status', 'created'].join('\t'),
    ...rows.map((o) =>
      [
        o.id,
        o.email,
        o.name,
        o.role,
        o.totpEnabled ? 'totp' : 'none',
        o.disabled
          ? 'disabled'
          : o.lockedUntil !== null && o.lockedUntil > Date.now()
            ? `locked until ${iso(o.lockedUntil)}`
            : 'active',
        iso(o.createdAt),
      ].join('\t'),
    ),
  ].join('\n');
}

/** `operators unlock <id>`: ends a lockout early (OPS-3), audited as the command line's. */
export async function unlockOperator(
  operators: OperatorService,
  operatorId: string,
): Promise<{ ok: boolean; text: string }> {
  const outcome = await operators.unlock({ actorId: null, operatorId });
  return outcome.ok
    ? { ok: true, text: `Unlocked ${operatorId}; they can sign in again now (audited as operator.unlocked).` }
    : { ok: false, text: OPERATOR_ERROR_MESSAGES[outcome.error] };
}
