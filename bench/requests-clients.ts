/**
 * The rights clients of `bench:requests`, in a process of their own so that their work (token
 * checks, JSON) does not share Lethe's event loop: started by `startClientsProcess` with its
 * settings as JSON in argv[2]; prints one JSON line with the clients' URLs, then serves until
 * its stdin closes.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  startHttpRightsClient,
  type HttpRightsClientFixture,
} from '../packages/server/test/support/rights-client-fixtures.js';

export interface ClientsSettings {
  readonly count: number;
  readonly latencyMs: number;
  /** Lethe's JWKS: the verified clients check every call token against it. */
  readonly jwksUrl: string;
  /** Every client holds one record for each of these emails. */
  readonly emails: readonly string[];
}

export interface ClientsProcess {
  /** `http://127.0.0.1:<port>` of client `c` (audience `rights-client:client-<c>`), checking tokens. */
  readonly verified: readonly string[];
  /** The same clients without token checks, for the naive loop. */
  readonly plain: readonly string[];
  close(): Promise<void>;
}

export function clientName(c: number): string {
  return `client-${c}`;
}

export async function startClientsProcess(settings: ClientsSettings): Promise<ClientsProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(settings)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the rights clients' process exited with ${code}`)));
  });
  const urls = JSON.parse(first) as { verified: string[]; plain: string[] };
  return {
    ...urls,
    async close() {
      child.stdin.end();
      await exited;
    },
  };
}

async function serve(settings: ClientsSettings): Promise<void> {
  const records = (c: number) =>
    new Map(
      settings.emails.map((email) => [
        email,
        [{ dataset: 'profiles', pk: `p-${c}`, fields: { email, plan: 'premium', client: clientName(c) } }],
      ]),
    );
  const fixtures: HttpRightsClientFixture[] = [];
  const plain: HttpRightsClientFixture[] = [];
  for (let c = 0; c < settings.count; c++) {
    const options = {
      audience: `rights-client:${clientName(c)}`,
      latencyMs: settings.latencyMs,
      records: records(c),
    };
    fixtures.push(await startHttpRightsClient({ ...options, jwksUrl: settings.jwksUrl }));
    plain.push(await startHttpRightsClient(options));
  }
  process.stdout.write(
    `${JSON.stringify({ verified: fixtures.map((f) => f.url), plain: plain.map((f) => f.url) })}\n`,
  );
  process.stdin.resume();
  await new Promise<void>((resolve) => process.stdin.once('end', resolve));
  for (const fixture of [...fixtures, ...plain]) await fixture.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await serve(JSON.parse(process.argv[2] ?? '{}') as ClientsSettings);
}
