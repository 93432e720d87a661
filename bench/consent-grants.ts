import type { ConsentImportResult } from '@lethe/api';
import { send } from './http-client.js';
import type { LetheServer } from './lethe-process.js';
import { subjectName } from './workload.js';

/** The import's own limits: 10,000 records per request, and the server's 1 MiB body limit. */
const MAX_LINES = 10_000;
const MAX_BODY_BYTES = 900 * 1024;

export interface GrantsRecorded {
  readonly recorded: number;
  readonly requests: number;
  readonly seconds: number;
}

/**
 * Grants every subject of the workload consent to every purpose through `POST /v1/consent/import`
 * (NDJSON, one line per subject), dated `at`, before any of its events. Refuses to go on when the
 * server rejects a line or records fewer grants than asked: the consented case must be consented.
 */
export async function grantConsentToAll(
  { server, token }: LetheServer,
  subjects: number,
  purposes: readonly string[],
  at: Date,
): Promise<GrantsRecorded> {
  const granted = Object.fromEntries(purposes.map((purpose) => [purpose, true]));
  const lines = Array.from({ length: subjects }, (_, index) =>
    JSON.stringify({
      subject: subjectName(index),
      purposes: granted,
      at: at.toISOString(),
      method: 'import',
      source: 'bench:ingest',
    }),
  );
  const started = performance.now();
  let recorded = 0;
  let requests = 0;
  for (const chunk of chunks(lines)) {
    const response = await send({
      method: 'POST',
      url: `${server.url}/v1/consent/import`,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' },
      body: Buffer.from(chunk.join('\n')),
    });
    const text = response.body.toString('utf8');
    if (response.status !== 200)
      throw new Error(`consent import answered ${response.status}: ${text.slice(0, 500)}`);
    const result = JSON.parse(text) as ConsentImportResult;
    if (result.rejected.length > 0) {
      throw new Error(`consent import rejected lines: ${JSON.stringify(result.rejected.slice(0, 3))}`);
    }
    recorded += result.recorded;
    requests += 1;
  }
  if (recorded !== subjects * purposes.length) {
    throw new Error(`consent import recorded ${recorded} grants, expected ${subjects * purposes.length}`);
  }
  return { recorded, requests, seconds: (performance.now() - started) / 1000 };
}

function* chunks(lines: readonly string[]): Generator<string[]> {
  let chunk: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (chunk.length === MAX_LINES || bytes + line.length + 1 > MAX_BODY_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(line);
    bytes += line.length + 1;
  }
  if (chunk.length > 0) yield chunk;
}
