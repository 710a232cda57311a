import type { Config } from '../config/config.ts';
import type { Gateway } from '../runtime.ts';

/** On the very first start (no key exists yet) create a test key and show it once, with an
 * example a newcomer can paste. Later starts only print where things are. */
export async function printFirstRunHelp(gateway: Gateway, config: Config): Promise<void> {
  const existing = await gateway.services.database.db.selectFrom('api_keys').select('id').limit(1).execute();
  const lines = [
    '',
    `Paywarden is running in test mode${config.liveEnabled ? ' (live mode enabled too)' : ''}.`,
    `  API:        ${gateway.url}/v1`,
    `  Dashboard:  ${gateway.url}/dashboard`,
    `  Database:   ${gateway.services.database.description}`,
    ...(gateway.simulatorUrl === undefined
      ? []
      : [`  Simulator:  ${gateway.simulatorUrl} (Flutterwave v3, test mode)`]),
  ];
  let key = '$PAYWARDEN_API_KEY';
  if (existing.length === 0) {
    const created = await gateway.services.keys.create({ mode: 'test', name: 'first-run' });
    key = created.key;
    lines.push(
      '',
      'Your test secret key (shown only this once; `npm run paywarden -- keys create` makes more):',
      '',
      `  ${created.key}`,
    );
  }
  lines.push(
    '',
    'Create a payment:',
    '',
    `  curl -s ${gateway.url}/v1/payments \\`,
    `    -H "Authorization: Bearer ${key}" \\`,
    `    -H "Idempotency-Key: $(node -e 'console.log(crypto.randomUUID())')" \\`,
    `    -H "Content-Type: application/json" \\`,
    `    -d '{"amount":150000,"currency":"NGN","reference":"order-1001","customer":{"email":"ada@example.com"},"redirect_url":"http://127.0.0.1:3000/thanks"}'`,
    '',
    `Or watch a whole payment end to end:  npm run paywarden -- demo --key ${key}`,
    '',
  );
  const operators = await gateway.services.operators.list();
  if (operators.length === 0)
    lines.push(
      'No dashboard operator yet. Create the first owner (prints a one-time link):',
      '',
      '  npm run paywarden -- operators create --email you@merchant.example --role owner',
      '',
    );
  console.log(lines.join('\n'));
}
