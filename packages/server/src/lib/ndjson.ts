/** A line of an NDJSON body that is not JSON; ingest rejects it on its own, not the whole batch. */
export class MalformedLine {
  constructor(readonly message: string) {}
}

/** Splits an NDJSON body into values; blank lines are skipped, bad lines become MalformedLine. */
export function parseNdjson(body: string): unknown[] {
  const values: unknown[] = [];
  for (const line of body.split('\n')) {
    if (line.trim() === '') continue;
    try {
      values.push(JSON.parse(line));
    } catch (error) {
      values.push(new MalformedLine(error instanceof Error ? error.message : 'not JSON'));
    }
  }
  return values;
}
