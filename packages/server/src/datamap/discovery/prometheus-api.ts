import { AppError } from '../../lib/app-error.js';
import type { SeriesObservation } from '../datamap.js';
import { COUNTER_SUFFIX, type DiscoveryNames } from './discovery-names.js';
import {
  DEFAULT_DISCOVERY_MAX_BYTES,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  displayUrl,
  fetchText,
  FetchTextError,
} from './fetch-text.js';
import { dedupeObservations, observationOf } from './series-observation.js';

export interface QueryPrometheusOptions {
  /** For the whole exchange, body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Larger answers fail the query. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

/**
 * Reads the data map series a Prometheus server currently holds, through its HTTP API
 * (`GET {baseUrl}/api/v1/query`). `baseUrl` is where Prometheus answers, path prefix included
 * (`http://monitoring:9090/prometheus/`); user and password in it are sent as Basic auth.
 *
 * It is an instant query: Prometheus returns only series that have a sample within its lookback
 * window (5 minutes by default) that is not a staleness marker. When a series disappears from a
 * target's exposition, or the target stops answering or is removed, Prometheus writes a staleness
 * marker at the next scrape, so the series is gone from the very next query — "currently
 * exposed", not "seen in the last minutes". Keeping history (first/last seen) is the caller's job.
 *
 * Every failure — network, timeout, an HTTP error status, an oversized or non-JSON answer, a
 * `status: "error"` answer — throws `AppError('DISCOVERY_FAILED')` naming the URL and the reason.
 */
export async function queryPrometheus(
  baseUrl: string,
  names: DiscoveryNames,
  options: QueryPrometheusOptions = {},
): Promise<SeriesObservation[]> {
  const url = queryUrl(baseUrl, dataMapSelector(names));
  const where = `Prometheus query ${displayUrl(url)}`;
  let answer;
  try {
    answer = await fetchText(url, {
      accept: 'application/json',
      timeoutMs: options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      maxBytes: options.maxBytes ?? DEFAULT_DISCOVERY_MAX_BYTES,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    });
  } catch (error) {
    if (error instanceof FetchTextError) failed(`${where} failed: ${error.message}.`, error);
    throw error;
  }

  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    body = undefined;
  }
  const ok = answer.status >= 200 && answer.status < 300;
  if (isApiError(body)) {
    failed(
      `${where} failed: Prometheus answered HTTP ${answer.status}, ${body.errorType ?? 'error'}: ${body.error}.`,
    );
  }
  if (!ok) failed(`${where} failed: Prometheus answered HTTP ${answer.status}${excerpt(answer.text)}.`);
  if (body === undefined) failed(`${where} failed: the answer is not JSON${excerpt(answer.text)}.`);
  const result = vectorOf(body);
  if (result === undefined) {
    failed(`${where} failed: the answer is not a Prometheus instant vector result.`);
  }

  const observations: SeriesObservation[] = [];
  for (const series of result) {
    const { __name__: name, ...labels } = series.metric;
    if (name === undefined) continue;
    const observation = observationOf(name, labels, names);
    if (observation) observations.push(observation);
  }
  return dedupeObservations(observations);
}

/**
 * One selector for all three kinds, each with and without the counter suffix (not `_created`):
 * `{__name__=~"transmit|transmit_total|store|store_total|client|client_total"}`. Metric names
 * are validated by `discoveryNames`, so they hold no regex metacharacter.
 */
export function dataMapSelector(names: DiscoveryNames): string {
  const spellings = Object.values(names.metrics).flatMap((name) => [name, name + COUNTER_SUFFIX]);
  return `{__name__=~"${spellings.join('|')}"}`;
}

/** `{baseUrl}/api/v1/query?query=…`, keeping a path prefix whether or not it ends in a slash. */
function queryUrl(baseUrl: string, query: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new AppError('DISCOVERY_CONFIG_INVALID', `The Prometheus URL "${baseUrl}" is not a valid URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError(
      'DISCOVERY_CONFIG_INVALID',
      `The Prometheus URL ${displayUrl(url)} must be http or https.`,
    );
  }
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  url.search = '';
  url.hash = '';
  url.searchParams.set('query', query);
  return url;
}

interface ApiError {
  readonly status: 'error';
  readonly errorType?: string;
  readonly error: string;
}

function isApiError(body: unknown): body is ApiError {
  if (typeof body !== 'object' || body === null) return false;
  const { status, error, errorType } = body as Record<string, unknown>;
  return (
    status === 'error' &&
    typeof error === 'string' &&
    (errorType === undefined || typeof errorType === 'string')
  );
}

interface VectorSeries {
  readonly metric: Readonly<Record<string, string>>;
}

/** `data.result` of a successful instant query, checked down to the label values. */
function vectorOf(body: unknown): VectorSeries[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { status, data } = body as Record<string, unknown>;
  if (status !== 'success' || typeof data !== 'object' || data === null) return undefined;
  const { resultType, result } = data as Record<string, unknown>;
  if (resultType !== 'vector' || !Array.isArray(result)) return undefined;
  for (const series of result as unknown[]) {
    const metric = (series as { metric?: unknown } | null)?.metric;
    if (typeof metric !== 'object' || metric === null) return undefined;
    if (!Object.values(metric).every((value) => typeof value === 'string')) return undefined;
  }
  return result as VectorSeries[];
}

/** The start of an unexpected answer, for the message; short, single-line. */
function excerpt(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line === '') return '';
  return `: ${line.length > 200 ? `${line.slice(0, 200)}…` : line}`;
}

function failed(message: string, cause?: unknown): never {
  throw new AppError('DISCOVERY_FAILED', message, undefined, cause === undefined ? undefined : { cause });
}
