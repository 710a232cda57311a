// Sign-in (OPS-2, OPS-3): password, then TOTP or a recovery code (or TOTP enrolment on first use),
// then the session cookie. Invitation acceptance. Every password or code submitted counts against
// the per-address budget (429 beyond it) on top of the per-account lockout.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import QRCode from 'qrcode';
import { RateLimiterRes } from 'rate-limiter-flexible';
import { OPERATOR_ERROR_MESSAGES } from '../../operators/accounts.ts';
import { CHALLENGE_TTL_MS } from '../../operators/login.ts';
import {
  CHALLENGE_COOKIE,
  COOKIE_ATTRIBUTES,
  relyingPartyOf,
  sendMessage,
  sendPage,
  SESSION_COOKIE,
  type DashboardDeps,
} from '../context.ts';
import { acceptInvitePage, enrolTotpPage, recoveryCodesPage, secondFactorPage, signInPage } from '../pages/sign-in.ts';
import {
  AcceptInviteBody,
  CodeBody,
  EmptyBody,
  InviteParams,
  PasskeySignInBody,
  SignInBody,
  SignInQuery,
} from '../schemas.ts';
import { DASHBOARD_CSP_WITH_SCRIPT } from '../security.ts';

const ENDED_MESSAGES: Readonly<Record<string, string>> = {
  logout: 'You have signed out.',
  replaced: 'You were signed out because your account signed in somewhere else (one session per operator).',
  idle_timeout: 'You were signed out after a period without activity.',
  absolute_timeout: 'Your session reached its maximum length. Sign in again.',
  password_changed: 'Your password was changed, which ends every session. Sign in with the new password.',
  role_changed: 'Your role was changed, which ends your session. Sign in again.',
  disabled: 'Your account is disabled.',
  locked: 'Your account was locked after too many failed attempts.',
  incident: 'Every session was ended while a security incident is handled. Sign in again.',
  invalid: 'Your session is not valid any more. Sign in again.',
};

const NOTICES: Readonly<Record<string, string>> = {
  enrolled: 'Your account is ready. Sign in to set up your authenticator app.',
  password_changed: 'Password changed. Sign in with the new password.',
};

export function signInRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { operators } = deps;

  /** False (and a 429 page sent) when this address has used its sign-in budget. */
  async function withinBudget(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    try {
      await deps.loginLimiter.consume(request.ip);
      return true;
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) throw error;
      void reply.header('retry-after', String(Math.ceil(error.msBeforeNext / 1000)));
      sendMessage(
        request,
        reply,
        429,
        'Too many attempts',
        'Too many sign-in attempts from your network. Wait a few minutes and try again.',
      );
      return false;
    }
  }

  const challengeOf = (request: FastifyRequest) => request.cookies[CHALLENGE_COOKIE] ?? '';
  const startSession = (reply: FastifyReply, token: string) => {
    void reply.setCookie(SESSION_COOKIE, token, COOKIE_ATTRIBUTES);
    void reply.clearCookie(CHALLENGE_COOKIE, COOKIE_ATTRIBUTES);
  };

  api.get('/login', { schema: { querystring: SignInQuery } }, async (request, reply) => {
    const { ended, notice } = request.query;
    return sendPage(
      request,
      reply,
      { title: 'Sign in' },
      signInPage({
        ...(ended === undefined ? {} : { notice: ENDED_MESSAGES[ended] }),
        ...(notice === undefined ? {} : { notice: NOTICES[notice] }),
      }),
    );
  });

  api.post('/login', { schema: { body: SignInBody } }, async (request, reply) => {
    if (!(await withinBudget(request, reply))) return reply;
    const outcome = await operators.beginLogin(request.body.email, request.body.password, request.ip);
    if (!outcome.ok)
      return sendPage(
        request,
        reply,
        { title: 'Sign in', status: 401 },
        // `locked` only after the right password (src/operators/login.ts); otherwise the generic answer.
        signInPage({
          error: OPERATOR_ERROR_MESSAGES[outcome.error === 'locked' ? 'locked' : 'invalid_credentials'],
          email: request.body.email,
        }),
      );
    void reply.setCookie(CHALLENGE_COOKIE, outcome.challengeToken, {
      ...COOKIE_ATTRIBUTES,
      maxAge: CHALLENGE_TTL_MS / 1000,
    });
    return reply.redirect(outcome.next === 'enrol_totp' ? '/dashboard/login/enrol' : '/dashboard/login/verify', 303);
  });

  /** The code form, with the passkey button (and its script) when the operator has a passkey. */
  async function sendSecondFactorPage(request: FastifyRequest, reply: FastifyReply, error?: string) {
    const passkey = await operators.passkeys.availableFor(challengeOf(request));
    if (passkey) void reply.header('content-security-policy', DASHBOARD_CSP_WITH_SCRIPT);
    return sendPage(
      request,
      reply,
      { title: 'Second factor', ...(error === undefined ? {} : { status: 401 }) },
      secondFactorPage({ passkey, ...(error === undefined ? {} : { error }) }),
    );
  }

  api.get('/login/verify', async (request, reply) => {
    if (challengeOf(request) === '') return reply.redirect('/dashboard/login', 303);
    return sendSecondFactorPage(request, reply);
  });

  // The passkey alternative to the code: JSON for the page's script (assets/passkey.js).
  api.post('/login/passkey/options', { schema: { body: EmptyBody } }, async (request, reply) => {
    const outcome = await operators.passkeys.loginOptions(challengeOf(request), relyingPartyOf(request, deps));
    if (!outcome.ok)
      return reply
        .code(outcome.error === 'invalid_challenge' ? 401 : 400)
        .send({ message: OPERATOR_ERROR_MESSAGES[outcome.error] });
    return { options: outcome.options };
  });

  api.post('/login/passkey', { schema: { body: PasskeySignInBody } }, async (request, reply) => {
    if (!(await withinBudget(request, reply))) return reply;
    const outcome = await operators.passkeys.completeLogin(
      challengeOf(request),
      request.body.response,
      relyingPartyOf(request, deps),
      request.ip,
    );
    if (!outcome.ok) return reply.code(401).send({ message: OPERATOR_ERROR_MESSAGES[outcome.error] });
    startSession(reply, outcome.sessionToken);
    return { redirect: '/dashboard' };
  });

  api.post('/login/verify', { schema: { body: CodeBody } }, async (request, reply) => {
    if (!(await withinBudget(request, reply))) return reply;
    const code = request.body.code.replaceAll(' ', '');
    const factor = /^\d{6}$/.test(code) ? { totpCode: code } : { recoveryCode: code };
    const outcome = await operators.completeSecondFactor(challengeOf(request), factor, request.ip);
    if (!outcome.ok) {
      if (outcome.error === 'invalid_challenge') return reply.redirect('/dashboard/login', 303);
      return sendSecondFactorPage(request, reply, OPERATOR_ERROR_MESSAGES[outcome.error]);
    }
    startSession(reply, outcome.sessionToken);
    return reply.redirect('/dashboard', 303);
  });

  api.get('/login/enrol', async (request, reply) => {
    const started = await operators.startTotpEnrolment(challengeOf(request));
    if (!started.ok) return reply.redirect('/dashboard/login', 303);
    // A data: image, since the policy allows no inline script and the QR is drawn as SVG.
    const svg = await QRCode.toString(started.uri, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    const qrDataUri = `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`;
    return sendPage(
      request,
      reply,
      { title: 'Set up your authenticator app' },
      enrolTotpPage({ qrDataUri, secretBase32: started.secretBase32 }),
    );
  });

  api.post('/login/enrol', { schema: { body: CodeBody } }, async (request, reply) => {
    if (!(await withinBudget(request, reply))) return reply;
    const outcome = await operators.confirmTotpEnrolment(
      challengeOf(request),
      request.body.code.replaceAll(' ', ''),
      request.ip,
    );
    if (!outcome.ok) {
      if (outcome.error === 'invalid_challenge') return reply.redirect('/dashboard/login', 303);
      return sendPage(
        request,
        reply,
        { title: 'Set up your authenticator app', status: 401 },
        enrolTotpPage({ error: OPERATOR_ERROR_MESSAGES[outcome.error] }),
      );
    }
    startSession(reply, outcome.sessionToken);
    // Rendered in this response rather than after a redirect: the codes exist only here.
    return sendPage(
      request,
      reply,
      { title: 'Your recovery codes' },
      recoveryCodesPage(outcome.recoveryCodes, '/dashboard'),
    );
  });

  // The one place a token is in a URL: the invitation link itself, single use and 24 hours. The
  // page sends no Referer (Referrer-Policy: no-referrer), so the link does not leak onwards.
  api.get('/enrol/:token', { schema: { params: InviteParams } }, async (request, reply) =>
    sendPage(
      request,
      reply,
      { title: 'Create your operator account' },
      acceptInvitePage({ action: `/dashboard/enrol/${request.params.token}` }),
    ),
  );

  api.post('/enrol/:token', { schema: { params: InviteParams, body: AcceptInviteBody } }, async (request, reply) => {
    const action = `/dashboard/enrol/${request.params.token}`;
    const outcome = await operators.acceptInvite(request.params.token, {
      name: request.body.name,
      password: request.body.password,
      ip: request.ip,
    });
    if (outcome.ok) return reply.redirect('/dashboard/login?notice=enrolled', 303);
    const status = outcome.error === 'invalid_invite' || outcome.error === 'invite_expired' ? 410 : 400;
    return sendPage(
      request,
      reply,
      { title: 'Create your operator account', status },
      acceptInvitePage({
        action,
        error: OPERATOR_ERROR_MESSAGES[outcome.error],
        ...(outcome.failures === undefined ? {} : { failures: outcome.failures }),
      }),
    );
  });
}
