// The hosted checkout a customer's browser sees: the page, and the Pay and Decline forms it posts
// (form-encoded, no script). Nothing here needs the secret key: the token in the link is the key.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { checkoutCsp, renderCheckout } from './checkout-page.ts';
import { closeIfExpired, type CompleteCheckout } from './checkouts.ts';
import type { Checkout, SimulatorState } from './state.ts';

export function registerCheckoutRoutes(
  app: FastifyInstance,
  deps: { state: SimulatorState; complete: CompleteCheckout; nowMs: () => number },
): void {
  const page = (reply: FastifyReply, checkout: Checkout, status = 200) => {
    closeIfExpired(checkout, deps.nowMs());
    return reply
      .code(status)
      .header('content-security-policy', checkoutCsp(checkout.redirectUrl))
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(renderCheckout(checkout));
  };
  const noSuchCheckout = (reply: FastifyReply) =>
    reply
      .code(404)
      .header('content-security-policy', "default-src 'none'")
      .type('text/plain; charset=utf-8')
      .send('No such checkout');

  app.get<{ Params: { token: string } }>('/checkout/:token', async (request, reply) => {
    const checkout = deps.state.checkouts.get(request.params.token);
    return checkout === undefined ? noSuchCheckout(reply) : page(reply, checkout);
  });

  for (const [action, outcome] of [
    ['pay', 'successful'],
    ['decline', 'failed'],
  ] as const) {
    app.post<{ Params: { token: string } }>(`/checkout/:token/${action}`, async (request, reply) => {
      const checkout = deps.state.checkouts.get(request.params.token);
      if (checkout === undefined) return noSuchCheckout(reply);
      const done = deps.complete(checkout.txRef, outcome);
      // Paid (or expired): the page says so instead of charging again.
      if (done === undefined) return page(reply, checkout, 409);
      // Declined: the customer stays on the checkout and may try another card.
      if (done.redirect === undefined) return page(reply, checkout);
      return reply.redirect(done.redirect, 302);
    });
  }
}
