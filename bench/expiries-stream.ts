import type { ExpiryItem } from '@lethe/api';
import { isoDay, type Dataset } from './expiries-dataset.js';
import type { StreamMeasurement, StreamSample } from './expiries-report.js';
import type { LetheServer } from './lethe-process.js';
import { readNdjson } from './ndjson-stream.js';
import { secondsSince } from './stats.js';

const SAMPLE_EVERY_MS = 250;

/**
 * The whole feed, first day to last, as NDJSON, sampling the server's memory and the client's
 * progress as it goes, within a time budget.
 */
export async function timeStream(
  lethe: LetheServer,
  dataset: Dataset,
  budgetSeconds: number,
): Promise<StreamMeasurement> {
  const days = [...dataset.perDay.keys()].sort((a, b) => a - b);
  const from = isoDay(days[0] as number);
  const to = isoDay(days[days.length - 1] as number);
  const rssBeforeKiB = lethe.server.stats().rssKiB;
  const url = `${lethe.server.url}/v1/expiries?from=${from}&to=${to}`;
  const reader = readNdjson(url, lethe.token, budgetSeconds);
  const started = performance.now();
  const samples: StreamSample[] = [];
  const sampler = setInterval(
    () =>
      samples.push({
        seconds: secondsSince(started),
        lines: reader.linesSoFar(),
        rssKiB: lethe.server.stats().rssKiB,
      }),
    SAMPLE_EVERY_MS,
  );
  let result;
  try {
    result = await reader.done;
  } finally {
    clearInterval(sampler);
  }
  if (result.complete && result.lines !== dataset.subjectFields) {
    throw new Error(
      `the stream had ${result.lines} lines, the database holds ${dataset.subjectFields} subject-fields`,
    );
  }
  const firstItem = result.first as Partial<ExpiryItem> | undefined;
  if (typeof firstItem?.subject !== 'string' || typeof firstItem.expiresAt !== 'string') {
    throw new Error(`the stream's first line is not an expiry item: ${JSON.stringify(firstItem)}`);
  }
  return {
    from,
    to,
    expectedLines: dataset.subjectFields,
    lines: result.lines,
    bytes: result.bytes,
    seconds: result.seconds,
    complete: result.complete,
    rssBeforeKiB,
    samples,
    peakRssKiB: lethe.server.stats().peakRssKiB,
  };
}
