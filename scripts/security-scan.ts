// `npm run security:scan` (LIVE-2, NET-1, NET-5): the long scans, against gateways started here on
// loopback. sqlmap (Debian's `sqlmap`) over the merchant API's query and body parameters and the
// dashboard's forms and filters with a signed-in session; testssl.sh (Debian's `testssl.sh`)
// against the TLS mode. Fails on any finding. The results go to docs/security-scan/ (committed:
// the last run's). Not part of `npm test` (about ten minutes); see the README for which run is where.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testDialects } from '../test/helpers/databases.ts';
import { startTestGateway, type TestGateway } from '../test/helpers/gateway.ts';
import { enrolOperator } from '../test/helpers/dashboard.ts';
import { makeCertificate } from '../test/helpers/certificates.ts';

const OUT = 'docs/security-scan';
const TAMPER = join(import.meta.dirname, 'security-scan', 'fresh_idempotency_key.py');
const only = process.argv[2]; // 'sqlmap' or 'testssl' to run one

/**
 * testssl.sh findings about the certificate itself, which here is a self-signed one made for the
 * run: a deployment gets its certificate from a CA, and `paywarden doctor` (tls.certificate)
 * judges that one. Everything else testssl.sh reports must be OK or INFO.
 */
const TEST_CERTIFICATE_FINDINGS = new Set(['cert_chain_of_trust', 'cert_revocation', 'DNS_CAArecord', 'cert_trust']);

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', (e) =>
      reject(new Error(`${command} not found (${e.message}): apt-get install sqlmap testssl.sh`)),
    );
    child.once('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

interface Target {
  readonly name: string;
  readonly args: string[];
}

function sqlmapTargets(gw: TestGateway, cookie: string, csrf: string, paymentId: string): Target[] {
  const api = ['--headers', `Authorization: Bearer ${gw.key}`];
  const dashboard = ['--cookie', cookie, '--headers', `Origin: ${gw.url}`];
  const payment = JSON.stringify({
    amount: 150000,
    currency: 'NGN',
    reference: 'scan-1',
    customer: { email: 'ada@example.com', name: 'Ada' },
    redirect_url: 'https://shop.example/thanks',
    description: 'scan',
  });
  return [
    {
      name: 'GET /v1/payments (query)',
      args: ['-u', `${gw.url}/v1/payments?reference=scan-1&limit=10&starting_after=pay_x`, ...api],
    },
    { name: 'GET /v1/payments/:id', args: ['-u', `${gw.url}/v1/payments/${paymentId}*`, ...api] },
    { name: 'GET /v1/events (query)', args: ['-u', `${gw.url}/v1/events?limit=10&starting_after=evt_x`, ...api] },
    {
      name: 'POST /v1/payments (JSON body)',
      args: [
        '-u',
        `${gw.url}/v1/payments`,
        '--data',
        payment,
        '--headers',
        `Authorization: Bearer ${gw.key}\nContent-Type: application/json\nIdempotency-Key: scan-base`,
        '--tamper',
        TAMPER,
      ],
    },
    {
      name: 'POST /v1/webhook_endpoints (JSON body)',
      args: [
        '-u',
        `${gw.url}/v1/webhook_endpoints`,
        '--data',
        JSON.stringify({ url: 'https://shop.example/hooks', events: ['payment.succeeded'] }),
        '--headers',
        `Authorization: Bearer ${gw.key}\nContent-Type: application/json\nIdempotency-Key: scan-base`,
        '--tamper',
        TAMPER,
      ],
    },
    {
      name: 'dashboard payments filter',
      args: ['-u', `${gw.url}/dashboard/payments?q=ada&status=pending`, ...dashboard],
    },
    { name: 'dashboard audit filter', args: ['-u', `${gw.url}/dashboard/audit?action=api_key.create`, ...dashboard] },
    {
      name: 'dashboard key form',
      args: [
        '-u',
        `${gw.url}/dashboard/keys`,
        '--data',
        `csrf_token=${csrf}&name=scan&mode=test`,
        '-p',
        'name,mode',
        ...dashboard,
      ],
    },
    {
      name: 'dashboard invite form',
      args: [
        '-u',
        `${gw.url}/dashboard/operators/invite`,
        '--data',
        `csrf_token=${csrf}&email=scan%40merchant.example&role=viewer`,
        '-p',
        'email,role',
        ...dashboard,
      ],
    },
    {
      name: 'dashboard sign-in form',
      args: [
        '-u',
        `${gw.url}/dashboard/login`,
        '--data',
        'email=scan%40merchant.example&password=Not-the-password-1',
        '--headers',
        `Origin: ${gw.url}`,
        '--ignore-code=401',
      ],
    },
  ];
}

async function sqlmap(report: string[]): Promise<number> {
  const [sqlite] = await testDialects();
  const gw = await startTestGateway(sqlite!, { env: { PAYWARDEN_DASHBOARD_LOGIN_ATTEMPTS_PER_IP: '100000' } });
  const sessionDir = mkdtempSync(join(tmpdir(), 'paywarden-sqlmap-'));
  let findings = 0;
  try {
    const owner = await enrolOperator(gw);
    const cookie = [...owner.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    report.push(`# sqlmap against Paywarden ${version} (SQLite, test mode, loopback), ${new Date().toISOString()}`, '');
    const payment = await gw.api('POST', '/v1/payments', {
      amount: 150000,
      currency: 'NGN',
      reference: 'scan-0',
      customer: { email: 'ada@example.com' },
      redirect_url: 'https://shop.example/thanks',
    });
    for (const target of sqlmapTargets(gw, cookie, owner.client.csrfToken, payment.body.id as string)) {
      const { output } = await run('sqlmap', [
        ...target.args,
        '--batch',
        '--level=3',
        '--risk=2',
        '--dbms=SQLite',
        '--time-sec=2',
        '--threads=2',
        '--flush-session',
        `--output-dir=${sessionDir}`,
        '--disable-coloring',
      ]);
      // Only confirmed injections count; sqlmap's intermediate guesses ("target URL appears to be
      // UNION injectable with N columns") are followed by its own verdict.
      const found =
        /identified the following injection point|parameter '[^']+' appears to be '[^']+' injectable|parameter '[^']+' is vulnerable/i.test(
          output,
        );
      const tested = /all tested parameters do not appear to be injectable|do not appear to be injectable/i.test(
        output,
      );
      const status = found ? 'FINDING' : tested ? 'clean' : 'INCOMPLETE';
      if (status !== 'clean') findings += 1;
      report.push(`${status.padEnd(10)} ${target.name}`);
      if (status !== 'clean')
        report.push(
          ...output
            .split('\n')
            .filter((l) => /injectable|injection point|CRITICAL|ERROR/i.test(l))
            .map((l) => `    ${l}`),
        );
      console.log(`sqlmap: ${status} ${target.name}`);
    }
  } finally {
    await gw.close();
    rmSync(sessionDir, { recursive: true, force: true });
  }
  return findings;
}

async function testssl(report: string[]): Promise<number> {
  const [sqlite] = await testDialects();
  const cert = makeCertificate();
  const gw = await startTestGateway(sqlite!, {
    env: { PAYWARDEN_TLS_CERT_FILE: cert.certFile, PAYWARDEN_TLS_KEY_FILE: cert.keyFile },
  });
  const dir = mkdtempSync(join(tmpdir(), 'paywarden-testssl-'));
  let findings = 0;
  try {
    const json = join(dir, 'testssl.json');
    await run('testssl', ['--quiet', '--color', '0', '--warnings', 'off', '--jsonfile', json, gw.url]);
    const results = JSON.parse(readFileSync(json, 'utf8')) as Array<{ id: string; severity: string; finding: string }>;
    report.push('', `# testssl.sh against the gateway's own TLS (PAYWARDEN_TLS_*), ${new Date().toISOString()}`, '');
    for (const r of results) {
      if (r.severity === 'OK' || r.severity === 'INFO') continue;
      const excused = TEST_CERTIFICATE_FINDINGS.has(r.id);
      if (!excused) findings += 1;
      report.push(`${excused ? 'test cert' : 'FINDING'}  ${r.severity.padEnd(8)} ${r.id}: ${r.finding}`);
    }
    const protocols = results.filter((r) => /^(SSLv2|SSLv3|TLS1|TLS1_1|TLS1_2|TLS1_3)$/.test(r.id));
    report.push('', ...protocols.map((r) => `protocol   ${r.id}: ${r.finding}`));
    const ciphers = results.filter((r) => r.id.startsWith('cipher-tls') || r.id.startsWith('cipher_x'));
    report.push(...ciphers.map((r) => `cipher     ${r.finding}`));
    const vulnerabilities = results.filter((r) =>
      /^(heartbleed|CCS|ticketbleed|ROBOT|secure_renego|secure_client_renego|CRIME_TLS|BREACH|POODLE_SSL|fallback_SCSV|SWEET32|FREAK|DROWN|LOGJAM|BEAST|LUCKY13|RC4)$/.test(
        r.id,
      ),
    );
    report.push(...vulnerabilities.map((r) => `vuln       ${r.id.padEnd(20)} ${r.severity.padEnd(8)} ${r.finding}`));
    console.log(`testssl: ${findings} finding(s)`);
  } finally {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return findings;
}

const report: string[] = [];
let findings = 0;
if (only === undefined || only === 'sqlmap') findings += await sqlmap(report);
if (only === undefined || only === 'testssl') findings += await testssl(report);
report.push('', findings === 0 ? 'Result: no findings.' : `Result: ${findings} finding(s).`);
mkdirSync(OUT, { recursive: true });
writeFileSync(join(OUT, only === undefined ? 'last-run.txt' : `last-run-${only}.txt`), `${report.join('\n')}\n`);
console.log(report.join('\n'));
process.exit(findings === 0 ? 0 : 1);
