// The dashboard's response hardening and cross-site checks (OPS-4, OPS-9, NET-2).
import type { FastifyRequest } from 'fastify';
import { FRAMING } from '../http/security-headers.ts';

/** No inline script or style, nothing from elsewhere, never framed (clickjacking). */
export const DASHBOARD_CSP = `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; ${FRAMING.frameAncestors}; base-uri 'none'`;

/** The same, plus our own script file and same-origin fetch: only for the passkey pages. */
export const DASHBOARD_CSP_WITH_SCRIPT = `${DASHBOARD_CSP}; script-src 'self'; connect-src 'self'`;

export const DASHBOARD_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': DASHBOARD_CSP,
  // Pages show payment data: no cache may keep them, and Back must not show a signed-out page.
  'cache-control': 'no-store',
  'x-frame-options': FRAMING.xFrameOptions,
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

export type CrossSiteCheck = { ok: true } | { ok: false; reason: 'cross_site' | 'missing_origin' };

/**
 * A state-changing request must come from our own pages: Sec-Fetch-Site says same-origin (modern
 * browsers), or else Origin (or Referer) names our origin. This is one of three layers with the
 * SameSite=Strict cookie and the per-session CSRF token.
 */
export function checkSameOrigin(request: Pick<FastifyRequest, 'headers'>, ourOrigin: string): CrossSiteCheck {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' ? { ok: true } : { ok: false, reason: 'cross_site' };
  const origin = request.headers.origin ?? refererOrigin(request.headers.referer);
  if (origin === undefined) return { ok: false, reason: 'missing_origin' };
  return origin === ourOrigin ? { ok: true } : { ok: false, reason: 'cross_site' };
}

function refererOrigin(referer: string | undefined): string | undefined {
  if (referer === undefined) return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return undefined;
  }
}
