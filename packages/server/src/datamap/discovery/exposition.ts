/**
 * A hand-written parser for the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0.
 *
 * Both formats share one line parser; where they differ (separators, timestamps in ms or seconds,
 * `# EOF`, exemplars, family contiguity) the difference is a flag on the `Dialect`, so the parsing
 * code reads the same for both. The input comes from scrape targets we do not control, so every
 * failure is an `ExpositionError` with a line number, and input size, line length and the number
 * of samples are capped before they can exhaust memory.
 *
 * Out of scope: Prometheus 3 quoted UTF-8 metric names (`{"my.metric"}`) and native histograms,
 * which only exist in the protobuf format.
 *
 * The parts: `LineCursor` (tokens of one line), `readSampleLine` (a sample line: labels, value,
 * timestamp, exemplar), `ExpositionParser` (descriptor lines and the assembly of families) and
 * `DIALECTS` (what differs between the two formats).
 */

import { DIALECTS } from './exposition-dialect.js';
import { ExpositionError } from './exposition-error.js';
import { ExpositionParser } from './exposition-parser.js';
import { LineCursor } from './line-cursor.js';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export type MetricType =
  | 'counter'
  | 'gauge'
  | 'histogram'
  | 'gaugehistogram'
  | 'summary'
  | 'stateset'
  | 'info'
  | 'untyped'
  | 'unknown';

export interface Exemplar {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
}

export interface Sample {
  /** The sample's own name, e.g. `http_requests_total` inside the family `http_requests`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestampMs?: number;
  readonly exemplar?: Exemplar;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help?: string;
  readonly unit?: string;
  readonly samples: readonly Sample[];
}

export interface ExpositionResult {
  readonly format: ExpositionFormat;
  /** In the order they first appear in the text. */
  readonly families: readonly MetricFamily[];
}

export interface ExpositionLimits {
  /** Longest accepted input, in UTF-16 code units. */
  readonly maxInputLength: number;
  readonly maxLineLength: number;
  /** Most samples (series) accepted across all families. */
  readonly maxSamples: number;
  /** Most metric families; descriptor lines alone create families, so they are capped on their own. */
  readonly maxFamilies: number;
}

export const DEFAULT_EXPOSITION_LIMITS: ExpositionLimits = {
  maxInputLength: 8 * 1024 * 1024,
  maxLineLength: 64 * 1024,
  maxSamples: 100_000,
  maxFamilies: 20_000,
};

/** What a scraper sends so that a target may answer with either format, OpenMetrics preferred. */
export const EXPOSITION_ACCEPT_HEADER =
  'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/**
 * Picks the format from a scrape response's Content-Type. Anything that is not OpenMetrics is read
 * as the 0.0.4 text format, which is what Prometheus itself falls back to.
 *
 * @example expositionFormatOf('application/openmetrics-text; version=1.0.0; charset=utf-8') // 'openmetrics'
 */
export function expositionFormatOf(contentType: string | undefined): ExpositionFormat {
  const mediaType = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase();
  return mediaType === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus';
}

/**
 * Parses an exposition into metric families; throws `ExpositionError` on malformed or oversized input.
 *
 * @example
 * const { families } = parseExposition('# TYPE up gauge\nup{job="api"} 1\n', 'prometheus');
 * // families[0] = { name: 'up', type: 'gauge', samples: [{ name: 'up', labels: { job: 'api' }, value: 1 }] }
 */
export function parseExposition(
  text: string,
  format: ExpositionFormat,
  limits: Partial<ExpositionLimits> = {},
): ExpositionResult {
  const effective = { ...DEFAULT_EXPOSITION_LIMITS, ...limits };
  if (text.length > effective.maxInputLength) {
    throw new ExpositionError(
      'EXPOSITION_LIMIT',
      `input is longer than ${effective.maxInputLength} characters`,
    );
  }
  const parser = new ExpositionParser(DIALECTS[format], effective);
  let lineNumber = 0;
  for (let start = 0; start < text.length;) {
    lineNumber++;
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    if (end - start > effective.maxLineLength) {
      throw new ExpositionError(
        'EXPOSITION_LIMIT',
        `line is longer than ${effective.maxLineLength} characters`,
        lineNumber,
      );
    }
    parser.parseLine(new LineCursor(text.slice(start, end), lineNumber, DIALECTS[format]));
    start = end + 1;
  }
  parser.finish(lineNumber + 1);
  return { format, families: parser.families };
}
