import { describe, expect, it } from 'vitest';
import { expositionFormatOf, parseExposition, type ExpositionFormat } from './exposition.js';
import { ExpositionError } from './exposition-error.js';

const lines = (...text: string[]) => text.map((line) => `${line}\n`).join('');

const failure = (text: string, format: ExpositionFormat, limits = {}): ExpositionError => {
  try {
    parseExposition(text, format, limits);
  } catch (error) {
    if (error instanceof ExpositionError) return error;
    throw error;
  }
  throw new Error('expected an ExpositionError');
};

describe('parseExposition, text format 0.0.4', () => {
  it('reads HELP, TYPE, labels and millisecond timestamps', () => {
    const { families } = parseExposition(
      lines(
        '# HELP transmit Personal data sent to another service.',
        '# TYPE transmit gauge',
        'transmit{team="data",service="sentinel",to_service="hammer",data_type="ip"} 1 1700000000123',
        'transmit{team="data",service="sentinel",to_service="hammer",data_type="name"} 1',
      ),
      'prometheus',
    );
    expect(families).toEqual([
      {
        name: 'transmit',
        type: 'gauge',
        help: 'Personal data sent to another service.',
        samples: [
          {
            name: 'transmit',
            labels: { team: 'data', service: 'sentinel', to_service: 'hammer', data_type: 'ip' },
            value: 1,
            timestampMs: 1700000000123,
          },
          {
            name: 'transmit',
            labels: { team: 'data', service: 'sentinel', to_service: 'hammer', data_type: 'name' },
            value: 1,
          },
        ],
      },
    ]);
  });

  it('unescapes label values and HELP text', () => {
    const { families } = parseExposition(
      lines('# HELP m a\\\\b\\nc "quoted"', 'm{path="C:\\\\dir",quote="say \\"hi\\"",multi="one\\ntwo"} 0'),
      'prometheus',
    );
    expect(families[0]?.help).toBe('a\\b\nc "quoted"');
    expect(families[0]?.samples[0]?.labels).toEqual({
      path: 'C:\\dir',
      quote: 'say "hi"',
      multi: 'one\ntwo',
    });
  });

  it('reads NaN, infinities, signs and exponents', () => {
    const values = ['NaN', '+Inf', '-Inf', 'inf', '-1.5e-3', '2E10', '.5', '7.', '-0'];
    const { families } = parseExposition(lines(...values.map((value, i) => `m${i} ${value}`)), 'prometheus');
    expect(families.map((family) => family.samples[0]?.value)).toEqual([
      Number.NaN,
      Infinity,
      -Infinity,
      Infinity,
      -0.0015,
      2e10,
      0.5,
      7,
      -0,
    ]);
  });

  it('accepts a trailing comma, blanks and tabs between tokens, blank lines and comments', () => {
    const { families } = parseExposition(
      lines(
        '# a comment',
        '#HELP-ish but not a descriptor',
        '',
        '  \t',
        ' m { a = "1" ,\tb="2", }\t3  42  ',
        '# EOF',
      ),
      'prometheus',
    );
    expect(families).toEqual([
      {
        name: 'm',
        type: 'untyped',
        samples: [{ name: 'm', labels: { a: '1', b: '2' }, value: 3, timestampMs: 42 }],
      },
    ]);
  });

  it('groups histogram and summary samples under their family and leaves other names untyped', () => {
    const { families } = parseExposition(
      lines(
        '# TYPE latency histogram',
        'latency_bucket{le="0.1"} 1',
        'latency_bucket{le="+Inf"} 2',
        'latency_sum 0.3',
        'latency_count 2',
        '# TYPE rpc summary',
        'rpc{quantile="0.99"} 0.2',
        'rpc_sum 1',
        'rpc_count 5',
        'latency_total 1',
      ),
      'prometheus',
    );
    expect(families.map((family) => [family.name, family.type, family.samples.map((s) => s.name)])).toEqual([
      ['latency', 'histogram', ['latency_bucket', 'latency_bucket', 'latency_sum', 'latency_count']],
      ['rpc', 'summary', ['rpc', 'rpc_sum', 'rpc_count']],
      ['latency_total', 'untyped', ['latency_total']],
    ]);
  });

  it('merges samples of a family that reappears later', () => {
    const { families } = parseExposition(lines('a 1', 'b 2', 'a{x="y"} 3'), 'prometheus');
    expect(families.map((family) => [family.name, family.samples.length])).toEqual([
      ['a', 2],
      ['b', 1],
    ]);
  });
});

describe('parseExposition, OpenMetrics 1.0', () => {
  it('groups _total and _created under the counter, reads UNIT, second timestamps and exemplars', () => {
    const { families } = parseExposition(
      lines(
        '# TYPE request_seconds counter',
        '# UNIT request_seconds seconds',
        '# HELP request_seconds Time spent, in \\"seconds\\".\\nSecond line.',
        'request_seconds_total{path="/"} 12.5 1700000000.25 # {trace_id="abc"} 0.7 1700000000.001',
        'request_seconds_created{path="/"} 1699999000',
        'request_seconds_total{path="/x"} 1 # {} 1',
        '# EOF',
      ),
      'openmetrics',
    );
    expect(families).toEqual([
      {
        name: 'request_seconds',
        type: 'counter',
        unit: 'seconds',
        help: 'Time spent, in "seconds".\nSecond line.',
        samples: [
          {
            name: 'request_seconds_total',
            labels: { path: '/' },
            value: 12.5,
            timestampMs: 1700000000250,
            exemplar: { labels: { trace_id: 'abc' }, value: 0.7, timestampMs: 1700000000001 },
          },
          { name: 'request_seconds_created', labels: { path: '/' }, value: 1699999000 },
          {
            name: 'request_seconds_total',
            labels: { path: '/x' },
            value: 1,
            exemplar: { labels: {}, value: 1 },
          },
        ],
      },
    ]);
  });

  it('knows gaugehistogram, stateset, info and unknown', () => {
    const { families } = parseExposition(
      lines(
        '# TYPE queue gaugehistogram',
        'queue_bucket{le="+Inf"} 3',
        'queue_gcount 3',
        'queue_gsum 7',
        '# TYPE feature stateset',
        'feature{feature="a"} 1',
        '# TYPE build info',
        'build_info{version="1.2"} 1',
        'mystery NaN',
        '# TYPE h histogram',
        'h_bucket{le="1"} 0 # {id="z"} 0.5',
        'h_created 1',
        '# EOF',
      ),
      'openmetrics',
    );
    expect(families.map((family) => [family.name, family.type, family.samples.length])).toEqual([
      ['queue', 'gaugehistogram', 3],
      ['feature', 'stateset', 1],
      ['build', 'info', 1],
      ['mystery', 'unknown', 1],
      ['h', 'histogram', 2],
    ]);
  });

  it('accepts an empty document and a missing final newline', () => {
    expect(parseExposition('# EOF\n', 'openmetrics').families).toEqual([]);
    expect(parseExposition('a 1\n# EOF', 'openmetrics').families).toHaveLength(1);
  });
});

describe('parseExposition errors', () => {
  const prometheusErrors: [string, string, number][] = [
    ['a{b="c} 1', 'unterminated label value', 1],
    ['ok 1\na{b="c\\', 'unterminated label value', 2],
    ['a{b="\\t"} 1', 'invalid escape sequence "\\t" in label value', 1],
    ['a{b="c" 1', 'expected , or } after label b', 1],
    ['a{b="c",', 'unterminated label set', 1],
    ['a{b=c} 1', 'expected a quoted value for label b', 1],
    ['a{1b="c"} 1', 'expected a label name', 1],
    ['a{b="1",b="2"} 1', 'duplicate label b', 1],
    ['a', 'expected a space before the value', 1],
    ['a{}', 'expected a space before the value', 1],
    ['a 1x', 'invalid value "1x"', 1],
    ['a 0x10', 'invalid value "0x10"', 1],
    ['a 1 1.5', 'invalid timestamp "1.5"', 1],
    ['a 1 99999999999999999999', 'timestamp "99999999999999999999" is out of range', 1],
    ['a 1 2 3', 'unexpected text after the timestamp', 1],
    ['{a="b"} 1', 'expected a metric name', 1],
    ['# HELP x \\q', 'invalid escape sequence "\\q" in help text', 1],
    ['# HELP x \\"', 'invalid escape sequence "\\"" in help text', 1],
    ['# HELP x a\\', 'lone backslash at the end of the help text', 1],
    ['# TYPE x', 'expected a space before the metric type', 1],
    ['# TYPE x gaugehistogram', 'unknown metric type "gaugehistogram"', 1],
    ['# TYPE x gauge extra', 'unexpected text "extra"', 1],
    ['# TYPE x gauge\n# TYPE x counter', 'second # TYPE for x', 2],
    ['# HELP x a\n# HELP x b', 'second # HELP for x', 2],
    ['x 1\n# TYPE x gauge', '# TYPE for x after its samples', 2],
    ['# TYPE x histogram\nx 1', 'sample x does not fit histogram x (expected x_bucket, x_sum, x_count)', 2],
  ];
  it.each(prometheusErrors)('0.0.4 %j fails with "%s" on line %d', (text, reason, line) => {
    const error = failure(text, 'prometheus');
    expect(error).toMatchObject({
      code: 'EXPOSITION_SYNTAX',
      reason,
      line,
      message: `line ${line}: ${reason}`,
    });
  });

  const openMetricsErrors: [string, string, number][] = [
    ['a 1\n', 'missing # EOF at the end', 2],
    ['', 'missing # EOF at the end', 1],
    ['# EOF\na 1\n', 'unexpected text after # EOF', 2],
    ['# EOF\n\n', 'unexpected text after # EOF', 2],
    ['a 1\n\n# EOF', 'empty line', 2],
    ['a  1\n# EOF', 'expected a value', 1],
    ['a 1 \n# EOF', 'expected a timestamp', 1],
    ['a\t1\n# EOF', 'expected a space before the value', 1],
    ['a{b="1",} 1\n# EOF', 'trailing comma in label set', 1],
    ['a{b="1", c="2"} 1\n# EOF', 'expected a label name', 1],
    ['a 1 1700000000.5x\n# EOF', 'invalid timestamp "1700000000.5x"', 1],
    ['a 1 NaN\n# EOF', 'invalid timestamp "NaN"', 1],
    ['a 1 # {} 1 2 3\n# EOF', 'unexpected text after the exemplar', 1],
    ['a 1 # x 1\n# EOF', 'expected { to start the exemplar labels', 1],
    ['a 1 #{} 1\n# EOF', 'expected a space before the exemplar labels', 1],
    [`a 1 # {id="${'x'.repeat(127)}"} 1\n# EOF`, 'exemplar labels are longer than 128 characters', 1],
    ['# comment\n# EOF', 'expected # HELP, # TYPE, # UNIT or # EOF, found "# comment"', 1],
    ['#\n# EOF', 'expected # HELP, # TYPE, # UNIT or # EOF', 1],
    ['# TYPE a untyped\n# EOF', 'unknown metric type "untyped"', 1],
    ['# UNIT a_bytes seconds\n# EOF', 'metric name a_bytes does not end with _seconds', 1],
    ['# TYPE a counter\na 1\n# EOF', 'sample a does not fit counter a (expected a_total, a_created)', 2],
    ['a 1\nb 1\na 2\n# EOF', 'metric family a is interleaved with another family', 3],
    [
      '# TYPE a gauge\n# TYPE b gauge\n# HELP a x\n# EOF',
      'metric family a is interleaved with another family',
      3,
    ],
    ['a 1\n# HELP a x\n# EOF', '# HELP for a after its samples', 2],
    ['a{b="1",b="1"} 1\n# EOF', 'duplicate label b', 1],
    ['# HELP a \\t\n# EOF', 'invalid escape sequence "\\t" in help text', 1],
  ];
  it.each(openMetricsErrors)('OpenMetrics %j fails with "%s" on line %d', (text, reason, line) => {
    const error = failure(text, 'openmetrics');
    expect(error).toMatchObject({ code: 'EXPOSITION_SYNTAX', reason, line });
  });
});

describe('parseExposition limits', () => {
  it('rejects input longer than maxInputLength before reading it', () => {
    expect(failure('a 1\n'.repeat(10), 'prometheus', { maxInputLength: 39 })).toMatchObject({
      code: 'EXPOSITION_LIMIT',
      line: undefined,
      message: 'input is longer than 39 characters',
    });
  });

  it('rejects a line longer than maxLineLength', () => {
    expect(failure(`a 1\nb{c="${'x'.repeat(100)}"} 1\n`, 'prometheus', { maxLineLength: 100 })).toMatchObject(
      {
        code: 'EXPOSITION_LIMIT',
        line: 2,
      },
    );
  });

  it('rejects more than maxSamples samples', () => {
    const text = Array.from({ length: 6 }, (_, i) => `a{i="${i}"} 1\n`).join('');
    expect(parseExposition(text, 'prometheus', { maxSamples: 6 }).families[0]?.samples).toHaveLength(6);
    expect(failure(text, 'prometheus', { maxSamples: 5 })).toMatchObject({
      code: 'EXPOSITION_LIMIT',
      message: 'line 6: more than 5 samples',
    });
  });

  it('rejects more than maxFamilies families, whether opened by samples or by descriptors', () => {
    expect(failure('a 1\nb 1\nc 1\n', 'prometheus', { maxFamilies: 2 })).toMatchObject({
      code: 'EXPOSITION_LIMIT',
      message: 'line 3: more than 2 metric families',
    });
    expect(failure('# TYPE a gauge\n# HELP b x\n# EOF\n', 'openmetrics', { maxFamilies: 1 })).toMatchObject({
      code: 'EXPOSITION_LIMIT',
      line: 2,
    });
  });

  it('parses a large exposition in linear time', () => {
    const text = Array.from(
      { length: 50_000 },
      (_, i) => `transmit{team="t${i % 50}",service="s${i}"} 1\n`,
    ).join('');
    const started = performance.now();
    expect(parseExposition(text, 'prometheus').families[0]?.samples).toHaveLength(50_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('expositionFormatOf', () => {
  it.each([
    ['application/openmetrics-text; version=1.0.0; charset=utf-8', 'openmetrics'],
    ['Application/OpenMetrics-Text;version=0.0.1', 'openmetrics'],
    ['text/plain; version=0.0.4; charset=utf-8', 'prometheus'],
    ['text/html', 'prometheus'],
    [undefined, 'prometheus'],
  ])('%s is %s', (contentType, format) => {
    expect(expositionFormatOf(contentType)).toBe(format);
  });
});
