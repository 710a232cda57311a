// Acts as the customer's browser at a simulator's hosted checkout: loads the page, finds the
// Pay or Decline form, and submits it, exactly as a person clicking the button would.
export async function payAtCheckout(
  checkoutUrl: string,
  button: 'pay' | 'decline' | 'debit' = 'pay',
): Promise<Response> {
  const page = await fetch(checkoutUrl);
  if (!page.ok) throw new Error(`checkout page answered ${page.status}`);
  const html = await page.text();
  const action = new RegExp(`<form[^>]*action="([^"]*/${button})"`, 'i').exec(html)?.[1];
  if (action === undefined) throw new Error(`checkout page has no ${button} form`);
  return fetch(new URL(action.replaceAll('&amp;', '&'), checkoutUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  });
}

/** Polls a condition (for things that happen on another server, like a webhook arriving). */
export async function waitUntil(
  condition: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
