import type { SeriesObservation } from '../datamap.js';
import {
  EXPOSITION_ACCEPT_HEADER,
  expositionFormatOf,
  parseExposition,
  type ExpositionLimits,
} from './exposition.js';
import { ExpositionError } from './exposition-error.js';
import type { DiscoveryNames } from './discovery-names.js';
import {
  DEFAULT_DISCOVERY_MAX_BYTES,
  DEFAULT_DISCOVERY_TIMEOUT_MS,
  displayUrl,
  fetchText,
  FetchTextError,
} from './fetch-text.js';
import { dedupeObservations, observationOf } from './series-observation.js';

export interface ScrapeTargetsOptions {
  /** Per target, body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Per target; larger answers fail that target. Default 16 MiB. */
  readonly maxBytes?: number;
  /** Targets fetched at the same time. Default 8. */
  readonly concurrency?: number;
  /** Limits of the exposition parser, per target. */
  readonly limits?: Partial<ExpositionLimits>;
  /** Defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

export interface ScrapeFailure {
  /** The target as given. */
  readonly target: string;
  /** Names the target and the reason, with the line number for a malformed exposition. */
  readonly message: string;
}

export interface ScrapeResult {
  /** Deduplicated, in target order. */
  readonly observations: SeriesObservation[];
  /** In target order. */
  readonly failures: ScrapeFailure[];
}

export const DEFAULT_SCRAPE_CONCURRENCY = 8;

/**
 * Direct mode, for teams without Prometheus: fetches each target's exposition (the full URL,
 * `http://10.0.0.7:9100/metrics`) the way Prometheus would — OpenMetrics preferred, the format
 * taken from the answer's Content-Type — and maps its samples to observations. Each sample is
 * read under its own name (`transmit_total` in an OpenMetrics counter family `transmit`).
 *
 * A target that cannot be fetched or parsed is reported in `failures` and does not affect the
 * others; this function itself does not throw for a target's sake.
 */
export async function scrapeTargets(
  targets: readonly string[],
  names: DiscoveryNames,
  options: ScrapeTargetsOptions = {},
): Promise<ScrapeResult> {
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? DEFAULT_SCRAPE_CONCURRENCY));
  const outcomes = new Array<SeriesObservation[] | ScrapeFailure>(targets.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const index = next++;
      const target = targets[index] as string;
      outcomes[index] = await scrapeOne(target, names, options);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));

  const observations: SeriesObservation[] = [];
  const failures: ScrapeFailure[] = [];
  for (const outcome of outcomes) {
    if (Array.isArray(outcome)) observations.push(...outcome);
    else failures.push(outcome);
  }
  return { observations: dedupeObservations(observations), failures };
}

async function scrapeOne(
  target: string,
  names: DiscoveryNames,
  options: ScrapeTargetsOptions,
): Promise<SeriesObservation[] | ScrapeFailure> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { target, message: `Scrape target "${target}" is not a valid URL.` };
  }
  const where = `Scraping ${displayUrl(url)}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { target, message: `${where} is not possible: only http and https targets are supported.` };
  }
  let answer;
  try {
    answer = await fetchText(url, {
      accept: EXPOSITION_ACCEPT_HEADER,
      timeoutMs: options.timeoutMs ?? DEFAULT_DISCOVERY_TIMEOUT_MS,
      maxBytes: options.maxBytes ?? DEFAULT_DISCOVERY_MAX_BYTES,
      fetch: options.fetch ?? globalThis.fetch.bind(globalThis),
    });
  } catch (error) {
    if (error instanceof FetchTextError) return { target, message: `${where} failed: ${error.message}.` };
    throw error;
  }
  if (answer.status < 200 || answer.status >= 300) {
    return { target, message: `${where} failed: the target answered HTTP ${answer.status}.` };
  }
  const format = expositionFormatOf(answer.contentType);
  let families;
  try {
    ({ families } = parseExposition(answer.text, format, options.limits));
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error;
    const formatName = format === 'openmetrics' ? 'OpenMetrics' : 'Prometheus text';
    return { target, message: `${where} failed: invalid ${formatName} exposition, ${error.message}.` };
  }
  const observations: SeriesObservation[] = [];
  for (const family of families) {
    for (const sample of family.samples) {
      const observation = observationOf(sample.name, sample.labels, names);
      if (observation) observations.push(observation);
    }
  }
  return observations;
}
