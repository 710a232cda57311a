// The pages seen before a session exists: sign-in, second factor, authenticator enrolment,
// recovery codes (shown once), invitation acceptance. No token ever appears in these pages; the
// sign-in challenge travels in its own short-lived `__Host-` cookie.
import type { PasswordRuleFailure } from '../../operators/password-policy.ts';
import { html, type SafeHtml } from '../html.ts';
import { csrfField } from '../layout.ts';

const problem = (message: string | undefined) =>
  message === undefined ? '' : html`<p class="error" id="problem" role="alert">${message}</p>`;
const notice = (message: string | undefined) =>
  message === undefined ? '' : html`<p class="notice" id="notice">${message}</p>`;

export function signInPage(options: { error?: string; notice?: string; email?: string }): SafeHtml {
  return html`${notice(options.notice)}${problem(options.error)}
<form method="post" action="/dashboard/login" class="stack" id="sign-in">
  <label>Email <input type="email" name="email" required maxlength="254" autocomplete="username" value="${options.email ?? ''}"></label>
  <label>Password <input type="password" name="password" required maxlength="128" autocomplete="current-password"></label>
  <button type="submit">Continue</button>
</form>`;
}

/** The script tag for pages with a passkey ceremony; they are served with script-src 'self'. */
export const PASSKEY_SCRIPT = html`<script src="/dashboard/assets/passkey.js" defer></script>`;

export function secondFactorPage(options: { error?: string; passkey?: boolean }): SafeHtml {
  return html`${problem(options.error)}
${options.passkey === true ? html`<p><button type="button" id="passkey-sign-in">Sign in with a passkey</button></p><p class="error" id="passkey-problem" role="alert" hidden></p><p>or</p>${PASSKEY_SCRIPT}` : ''}
<form method="post" action="/dashboard/login/verify" class="stack" id="second-factor">
  <label>Code from your authenticator app, or a recovery code <input name="code" required maxlength="32" autocomplete="one-time-code" inputmode="text" autofocus></label>
  <button type="submit">Sign in</button>
</form>
<p><a href="/dashboard/login">Start again</a></p>`;
}

export function enrolTotpPage(options: { qrDataUri?: string; secretBase32?: string; error?: string }): SafeHtml {
  return html`<p>Your account needs an authenticator app (such as any TOTP app) before first use. Scan the code or type the key, then enter the 6-digit code it shows.</p>
${options.qrDataUri === undefined ? '' : html`<p><img src="${options.qrDataUri}" alt="QR code for your authenticator app" width="220" height="220" id="totp-qr"></p>`}
${options.secretBase32 === undefined ? '' : html`<p>Key: <code id="totp-secret">${options.secretBase32}</code></p>`}
${problem(options.error)}
<form method="post" action="/dashboard/login/enrol" class="stack" id="enrol">
  <label>6-digit code <input name="code" required pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code" inputmode="numeric"></label>
  <button type="submit">Turn on and sign in</button>
</form>
${options.qrDataUri === undefined ? html`<p><a href="/dashboard/login/enrol">Show a new key</a> (your app must then be set up again)</p>` : ''}`;
}

export function recoveryCodesPage(codes: readonly string[], continueTo: string): SafeHtml {
  return html`<p class="notice">Save these recovery codes somewhere safe now: each signs you in once if you lose your authenticator app. They will not be shown again.</p>
<ol id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ol>
<p><a href="${continueTo}" id="continue">I have saved them: continue</a></p>`;
}

export function acceptInvitePage(options: {
  action: string;
  email?: string;
  error?: string;
  failures?: readonly PasswordRuleFailure[];
}): SafeHtml {
  return html`<p>Set up your operator account${options.email === undefined ? '' : html` for <strong>${options.email}</strong>`}. The password needs 12 to 128 characters with upper- and lower-case letters, a digit and a special character; common passwords and ones containing your name or email are refused.</p>
${problem(options.error)}
${options.failures === undefined || options.failures.length === 0 ? '' : html`<ul class="error" id="password-rules">${options.failures.map((f) => html`<li data-rule="${f.code}">${f.message}</li>`)}</ul>`}
<form method="post" action="${options.action}" class="stack" id="accept-invite">
  <label>Your name <input name="name" required maxlength="100" autocomplete="name"></label>
  <label>Password <input type="password" name="password" required minlength="12" maxlength="128" autocomplete="new-password"></label>
  <button type="submit">Create account</button>
</form>`;
}

export function reauthPage(options: { returnTo: string; csrfToken: string; error?: string }): SafeHtml {
  return html`<p>This action needs your password again (sensitive actions require a sign-in within the last 5 minutes).</p>
${problem(options.error)}
${reauthForm(options.returnTo, options.csrfToken)}`;
}

export function reauthForm(returnTo: string, csrfToken: string): SafeHtml {
  return html`<form method="post" action="/dashboard/reauth" class="stack" id="reauth">${csrfField(csrfToken)}
  <input type="hidden" name="return_to" value="${returnTo}">
  <label>Password <input type="password" name="password" required maxlength="128" autocomplete="current-password"></label>
  <button type="submit">Confirm</button>
</form>`;
}

export function messagePage(message: string, requestId: string): SafeHtml {
  return html`<p class="error" id="problem" role="alert">${message}</p><p>Request id: <code id="request-id">${requestId}</code></p><p><a href="/dashboard">Back to the dashboard</a></p>`;
}
