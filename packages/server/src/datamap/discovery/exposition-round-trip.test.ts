import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  parseExposition,
  type ExpositionFormat,
  type MetricFamily,
  type MetricType,
  type Sample,
} from './exposition.js';
import { ExpositionError } from './exposition-error.js';

const lines = (...text: string[]) => text.map((line) => `${line}\n`).join('');

// Property tests: a small serializer writes generated families; the parser must read them back.

const TYPES: Record<ExpositionFormat, Record<string, readonly string[]>> = {
  prometheus: {
    counter: [''],
    gauge: [''],
    untyped: [''],
    histogram: ['_bucket', '_sum', '_count'],
    summary: ['', '_sum', '_count'],
  },
  openmetrics: {
    counter: ['_total', '_created'],
    gauge: [''],
    unknown: [''],
    stateset: [''],
    info: ['_info'],
    histogram: ['_bucket', '_count', '_sum', '_created'],
    gaugehistogram: ['_bucket', '_gcount', '_gsum'],
    summary: ['', '_count', '_sum', '_created'],
  },
};

const tricky = fc.constantFrom(
  'a',
  'Z',
  '0',
  ' ',
  '\t',
  '"',
  '\\',
  '\n',
  '\r',
  '{',
  '}',
  ',',
  '=',
  '#',
  'é',
  '💥',
);
const labelValue = fc.string({ unit: tricky, maxLength: 10 });
const labels = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,7}$/), labelValue), {
    maxLength: 3,
    selector: ([name]) => name,
  })
  .map((pairs) => Object.fromEntries(pairs));
const value = fc.oneof(fc.double(), fc.integer().map(Number), fc.constantFrom(NaN, Infinity, -Infinity, -0));

const family = (format: ExpositionFormat) =>
  fc
    .record({
      base: fc.stringMatching(/^[a-z_:][a-z0-9_:]{0,8}$/),
      type: fc.constantFrom(...Object.keys(TYPES[format])),
      help: fc.option(fc.string({ unit: tricky, maxLength: 12 }).filter((help) => !/^[ \t]/.test(help))),
      unit: format === 'openmetrics' ? fc.option(fc.constantFrom('seconds', 'bytes')) : fc.constant(null),
      samples: fc.array(
        fc.record({
          suffixIndex: fc.nat(),
          labels,
          value,
          timestampMs: fc.option(fc.integer({ min: -1e12, max: 4e12 })),
          exemplar: fc.option(
            fc.record({ labels, value, timestampMs: fc.option(fc.integer({ min: 0, max: 4e12 })) }),
          ),
        }),
        { maxLength: 4 },
      ),
    })
    .map(({ base, type, help, unit, samples }): Omit<MetricFamily, 'name'> & { base: string } => {
      const suffixes = TYPES[format][type] ?? [''];
      return {
        base: unit === null ? base : `${base}_${unit}`,
        type: type as MetricType,
        ...(help === null ? {} : { help }),
        ...(unit === null ? {} : { unit }),
        samples: samples.map((sample): Sample => {
          const suffix = suffixes[sample.suffixIndex % suffixes.length] ?? '';
          const exemplar =
            format === 'openmetrics' && sample.exemplar && (suffix === '_total' || suffix === '_bucket')
              ? {
                  labels: sample.exemplar.labels,
                  value: sample.exemplar.value,
                  ...(sample.exemplar.timestampMs === null
                    ? {}
                    : { timestampMs: sample.exemplar.timestampMs }),
                }
              : undefined;
          return {
            name: suffix,
            labels: sample.labels,
            value: sample.value,
            ...(sample.timestampMs === null ? {} : { timestampMs: sample.timestampMs }),
            ...(exemplar ? { exemplar } : {}),
          };
        }),
      };
    });

/** Distinct index prefixes keep generated families from colliding through their suffixes. */
const document = (format: ExpositionFormat) =>
  fc.array(family(format), { maxLength: 5 }).map((drafts) =>
    drafts.map(({ base, ...draft }, index): MetricFamily => {
      const name = `m${index}_${base}`;
      return {
        ...draft,
        name,
        samples: draft.samples.map((sample) => ({ ...sample, name: name + sample.name })),
      };
    }),
  );

function serialize(families: readonly MetricFamily[], format: ExpositionFormat): string {
  const om = format === 'openmetrics';
  const escape = (text: string, quotes: boolean) =>
    text
      .replace(/\\/g, '\\\\')
      .replace(/\n/g, '\\n')
      .replace(/"/g, quotes ? '\\"' : '"');
  const labelSet = (set: Readonly<Record<string, string>>) =>
    `{${Object.entries(set)
      .map(([name, text]) => `${name}="${escape(text, true)}"`)
      .join(',')}}`;
  const number = (n: number) =>
    Number.isNaN(n)
      ? 'NaN'
      : n === Infinity
        ? '+Inf'
        : n === -Infinity
          ? '-Inf'
          : Object.is(n, -0)
            ? '-0'
            : `${n}`;
  const timestamp = (ms: number | undefined) => (ms === undefined ? '' : ` ${om ? ms / 1000 : ms}`);
  const out: string[] = [];
  for (const { name, type, help, unit, samples } of families) {
    out.push(`# TYPE ${name} ${type}`);
    if (help !== undefined) out.push(`# HELP ${name} ${escape(help, om)}`);
    if (unit !== undefined) out.push(`# UNIT ${name} ${unit}`);
    for (const sample of samples) {
      const exemplar = sample.exemplar
        ? ` # ${labelSet(sample.exemplar.labels)} ${number(sample.exemplar.value)}${timestamp(sample.exemplar.timestampMs)}`
        : '';
      out.push(
        `${sample.name}${labelSet(sample.labels)} ${number(sample.value)}${timestamp(sample.timestampMs)}${exemplar}`,
      );
    }
  }
  if (om) out.push('# EOF');
  return lines(...out);
}

const onlyExpositionErrors = (text: string, format: ExpositionFormat) => {
  try {
    parseExposition(text, format, { maxSamples: 50 });
  } catch (error) {
    if (!(error instanceof ExpositionError)) throw error;
  }
};

describe.each(['prometheus', 'openmetrics'] as const)('parseExposition properties (%s)', (format) => {
  it('round-trips generated documents through a serializer', () => {
    fc.assert(
      fc.property(document(format), (families) => {
        expect(parseExposition(serialize(families, format), format).families).toEqual(families);
      }),
      { numRuns: 300 },
    );
  });

  it('throws nothing but ExpositionError on random text', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(...'a_{}="\\,# \t\n1.eE+-InfNa'), maxLength: 200 }),
    );
    fc.assert(
      fc.property(text, (input) => onlyExpositionErrors(input, format)),
      { numRuns: 1000 },
    );
  });

  it('throws nothing but ExpositionError on mutated valid documents', () => {
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('delete', 'insert', 'duplicate-line', 'truncate'),
      char: fc.constantFrom(...'a{}="\\,# \t\n1+-'),
    });
    fc.assert(
      fc.property(document(format), fc.array(edit, { minLength: 1, maxLength: 5 }), (families, edits) => {
        let text = serialize(families, format);
        for (const { at, kind, char } of edits) {
          const index = text.length === 0 ? 0 : at % text.length;
          if (kind === 'delete') text = text.slice(0, index) + text.slice(index + 1);
          else if (kind === 'insert') text = text.slice(0, index) + char + text.slice(index);
          else if (kind === 'truncate') text = text.slice(0, index);
          else {
            const all = text.split('\n');
            const line = all[index % Math.max(all.length, 1)] ?? '';
            text = `${line}\n${text}`;
          }
        }
        onlyExpositionErrors(text, format);
      }),
      { numRuns: 500 },
    );
  });
});
