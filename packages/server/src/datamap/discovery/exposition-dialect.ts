import type { ExpositionFormat, MetricType } from './exposition.js';

/** Where the text format 0.0.4 and OpenMetrics 1.0 differ: the parser reads the flags, not the format. */
export interface Dialect {
  /** The sample name suffixes each known type accepts; its keys are the types the format knows. */
  readonly suffixes: Readonly<Partial<Record<MetricType, readonly string[]>>>;
  readonly defaultType: MetricType;
  readonly descriptors: readonly string[];
  /** 0.0.4 separates tokens by runs of blanks and tabs, allows blank lines and `#` comments. */
  readonly lenientWhitespace: boolean;
  readonly trailingCommaInLabels: boolean;
  readonly helpEscapesQuote: boolean;
  /** Timestamps are integer milliseconds (0.0.4) or float seconds (OpenMetrics). */
  readonly timestampsInSeconds: boolean;
  readonly exemplars: boolean;
  readonly requiresEof: boolean;
  /** OpenMetrics forbids interleaving families; 0.0.4 merges a family's samples wherever they are. */
  readonly contiguousFamilies: boolean;
  /** OpenMetrics wants a family's descriptors before its samples; 0.0.4 only demands it of TYPE. */
  readonly descriptorsBeforeSamples: boolean;
}

export const DIALECTS: Readonly<Record<ExpositionFormat, Dialect>> = {
  prometheus: {
    suffixes: {
      counter: [''],
      gauge: [''],
      untyped: [''],
      histogram: ['_bucket', '_sum', '_count'],
      summary: ['', '_sum', '_count'],
    },
    defaultType: 'untyped',
    descriptors: ['HELP', 'TYPE'],
    lenientWhitespace: true,
    trailingCommaInLabels: true,
    helpEscapesQuote: false,
    timestampsInSeconds: false,
    exemplars: false,
    requiresEof: false,
    contiguousFamilies: false,
    descriptorsBeforeSamples: false,
  },
  openmetrics: {
    suffixes: {
      counter: ['_total', '_created'],
      gauge: [''],
      unknown: [''],
      stateset: [''],
      info: ['_info'],
      histogram: ['_bucket', '_count', '_sum', '_created'],
      gaugehistogram: ['_bucket', '_gcount', '_gsum'],
      summary: ['', '_count', '_sum', '_created'],
    },
    defaultType: 'unknown',
    descriptors: ['HELP', 'TYPE', 'UNIT'],
    lenientWhitespace: false,
    trailingCommaInLabels: false,
    helpEscapesQuote: true,
    timestampsInSeconds: true,
    exemplars: true,
    requiresEof: true,
    contiguousFamilies: true,
    descriptorsBeforeSamples: true,
  },
};
