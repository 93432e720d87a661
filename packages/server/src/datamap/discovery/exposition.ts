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
 */

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

export type ExpositionErrorCode = 'EXPOSITION_SYNTAX' | 'EXPOSITION_LIMIT';

/** The only error `parseExposition` throws; `message` reads `line 7: unterminated label value`. */
export class ExpositionError extends Error {
  constructor(
    readonly code: ExpositionErrorCode,
    readonly reason: string,
    /** 1-based; undefined when the error is about the input as a whole. */
    readonly line?: number,
  ) {
    super(line === undefined ? reason : `line ${line}: ${reason}`);
    this.name = 'ExpositionError';
  }
}

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

interface Dialect {
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

const DIALECTS: Readonly<Record<ExpositionFormat, Dialect>> = {
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

const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const UNIT = /^[a-zA-Z0-9_:]*$/;
const FLOAT = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$|^nan$/i;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
/** OpenMetrics caps the combined length of an exemplar's label names and values. */
const MAX_EXEMPLAR_LABEL_CHARS = 128;

type Labels = Record<string, string>;

interface FamilyState {
  readonly family: { name: string; type: MetricType; help?: string; unit?: string; samples: Sample[] };
  readonly declared: Set<string>;
}

class ExpositionParser {
  readonly families: MetricFamily[] = [];
  private readonly byName = new Map<string, FamilyState>();
  private readonly suffixesExactFirst: readonly string[];
  private readonly wasLeft = new Set<FamilyState>();
  private current: FamilyState | undefined;
  private sampleCount = 0;
  private eofLine: number | undefined;

  constructor(
    private readonly dialect: Dialect,
    private readonly limits: ExpositionLimits,
  ) {
    const all = new Set(Object.values(dialect.suffixes).flat());
    this.suffixesExactFirst = [...all].sort((a, b) => a.length - b.length);
  }

  parseLine(cur: LineCursor): void {
    if (this.eofLine !== undefined) cur.fail('unexpected text after # EOF');
    if (this.dialect.lenientWhitespace) {
      cur.skipBlanks();
      if (cur.atEnd()) return;
    } else if (cur.text === '') {
      cur.fail('empty line');
    }
    if (cur.peek() === '#') this.parseHashLine(cur);
    else this.parseSample(cur);
  }

  finish(nextLine: number): void {
    if (this.dialect.requiresEof && this.eofLine === undefined) {
      throw new ExpositionError('EXPOSITION_SYNTAX', 'missing # EOF at the end', nextLine);
    }
  }

  private parseHashLine(cur: LineCursor): void {
    if (this.dialect.requiresEof && cur.text === '# EOF') {
      this.eofLine = cur.line;
      return;
    }
    const comments = this.dialect.lenientWhitespace;
    cur.expect('#');
    if (!cur.gapOrEnd()) {
      if (comments) return;
      cur.fail('expected # HELP, # TYPE, # UNIT or # EOF');
    }
    const keyword = cur.readToken('descriptor');
    if (!this.dialect.descriptors.includes(keyword)) {
      if (comments) return;
      cur.fail(`expected # HELP, # TYPE, # UNIT or # EOF, found "# ${keyword}"`);
    }
    cur.separator(`metric name after # ${keyword}`);
    const name = cur.readMatch(METRIC_NAME, 'metric name');
    const state = this.descriptorTarget(cur, keyword, name);
    const { family } = state;
    if (keyword === 'TYPE') {
      cur.separator('metric type');
      const type = cur.readToken('metric type');
      if (!Object.hasOwn(this.dialect.suffixes, type)) cur.fail(`unknown metric type "${type}"`);
      family.type = type as MetricType;
      cur.endOfLine();
    } else if (keyword === 'UNIT') {
      const unit = cur.gapOrEnd() ? cur.rest() : '';
      if (!UNIT.test(unit)) cur.fail(`invalid unit "${unit}"`);
      if (unit !== '' && !name.endsWith(`_${unit}`))
        cur.fail(`metric name ${name} does not end with _${unit}`);
      family.unit = unit;
    } else {
      family.help = cur.gapOrEnd() ? cur.readEscapedRest(this.dialect.helpEscapesQuote) : '';
    }
  }

  private descriptorTarget(cur: LineCursor, keyword: string, name: string): FamilyState {
    const state = this.byName.get(name) ?? this.openFamily(cur, name);
    this.enter(cur, state);
    if (state.family.samples.length > 0 && (keyword === 'TYPE' || this.dialect.descriptorsBeforeSamples)) {
      cur.fail(`# ${keyword} for ${name} after its samples`);
    }
    if (state.declared.has(keyword)) cur.fail(`second # ${keyword} for ${name}`);
    state.declared.add(keyword);
    return state;
  }

  private parseSample(cur: LineCursor): void {
    const name = cur.readMatch(METRIC_NAME, 'metric name');
    const afterName = cur.pos;
    if (this.dialect.lenientWhitespace) cur.skipBlanks();
    let labels: Labels = Object.create(null) as Labels;
    if (cur.peek() === '{') labels = this.readLabelSet(cur);
    else cur.pos = afterName;
    cur.separator('value');
    const value = parseFloatToken(cur, cur.readToken('value'));
    let timestampMs: number | undefined;
    let exemplar: Exemplar | undefined;
    if (cur.gapOrEnd()) {
      let exemplarFollows = this.dialect.exemplars && cur.peek() === '#';
      if (!exemplarFollows) {
        timestampMs = this.readTimestamp(cur);
        if (cur.gapOrEnd()) {
          if (!this.dialect.exemplars || cur.peek() !== '#') cur.fail('unexpected text after the timestamp');
          exemplarFollows = true;
        }
      }
      if (exemplarFollows) exemplar = this.readExemplar(cur);
    }
    const state = this.sampleTarget(cur, name);
    if (++this.sampleCount > this.limits.maxSamples) {
      throw new ExpositionError('EXPOSITION_LIMIT', `more than ${this.limits.maxSamples} samples`, cur.line);
    }
    const sample: { -readonly [K in keyof Sample]: Sample[K] } = { name, labels, value };
    if (timestampMs !== undefined) sample.timestampMs = timestampMs;
    if (exemplar !== undefined) sample.exemplar = exemplar;
    state.family.samples.push(sample);
  }

  private readExemplar(cur: LineCursor): Exemplar {
    cur.expect('#');
    cur.separator('exemplar labels');
    if (cur.peek() !== '{') cur.fail('expected { to start the exemplar labels');
    const labels = this.readLabelSet(cur);
    let chars = 0;
    for (const [name, value] of Object.entries(labels)) chars += [...name].length + [...value].length;
    if (chars > MAX_EXEMPLAR_LABEL_CHARS) {
      cur.fail(`exemplar labels are longer than ${MAX_EXEMPLAR_LABEL_CHARS} characters`);
    }
    cur.separator('exemplar value');
    const value = parseFloatToken(cur, cur.readToken('exemplar value'));
    const timestampMs = cur.gapOrEnd() ? this.readTimestamp(cur) : undefined;
    if (!cur.atEnd()) cur.fail('unexpected text after the exemplar');
    return timestampMs === undefined ? { labels, value } : { labels, value, timestampMs };
  }

  private readTimestamp(cur: LineCursor): number {
    const token = cur.readToken('timestamp');
    const seconds = this.dialect.timestampsInSeconds;
    if (!(seconds ? DECIMAL : INTEGER).test(token)) cur.fail(`invalid timestamp "${token}"`);
    const timestampMs = seconds ? Math.round(Number(token) * 1000) : Number(token);
    if (!Number.isSafeInteger(timestampMs)) cur.fail(`timestamp "${token}" is out of range`);
    return timestampMs;
  }

  private readLabelSet(cur: LineCursor): Labels {
    const labels = Object.create(null) as Labels;
    cur.expect('{');
    let afterComma = false;
    for (;;) {
      cur.optionalBlanks();
      if (cur.atEnd()) cur.fail('unterminated label set');
      if (cur.peek() === '}') {
        if (afterComma && !this.dialect.trailingCommaInLabels) cur.fail('trailing comma in label set');
        cur.pos++;
        return labels;
      }
      const name = cur.readMatch(LABEL_NAME, 'label name');
      cur.optionalBlanks();
      cur.expect('=');
      cur.optionalBlanks();
      if (cur.peek() !== '"') cur.fail(`expected a quoted value for label ${name}`);
      const value = cur.readQuoted();
      if (Object.hasOwn(labels, name)) cur.fail(`duplicate label ${name}`);
      labels[name] = value;
      cur.optionalBlanks();
      if (cur.atEnd()) cur.fail('unterminated label set');
      afterComma = cur.peek() === ',';
      if (afterComma) cur.pos++;
      else if (cur.peek() !== '}') cur.fail(`expected , or } after label ${name}`);
    }
  }

  /** The family a sample belongs to: its own name first, then a typed family whose suffix it carries. */
  private sampleTarget(cur: LineCursor, name: string): FamilyState {
    let state: FamilyState | undefined;
    for (const suffix of this.suffixesExactFirst) {
      if (!name.endsWith(suffix)) continue;
      const candidate = this.byName.get(name.slice(0, name.length - suffix.length));
      if (candidate && this.dialect.suffixes[candidate.family.type]?.includes(suffix)) {
        state = candidate;
        break;
      }
    }
    if (!state) {
      const taken = this.byName.get(name);
      if (taken) {
        const expected = (this.dialect.suffixes[taken.family.type] ?? []).map((suffix) => name + suffix);
        cur.fail(
          `sample ${name} does not fit ${taken.family.type} ${name} (expected ${expected.join(', ')})`,
        );
      }
      state = this.openFamily(cur, name);
    }
    this.enter(cur, state);
    return state;
  }

  private openFamily(cur: LineCursor, name: string): FamilyState {
    if (this.families.length >= this.limits.maxFamilies) {
      throw new ExpositionError(
        'EXPOSITION_LIMIT',
        `more than ${this.limits.maxFamilies} metric families`,
        cur.line,
      );
    }
    const state: FamilyState = {
      family: { name, type: this.dialect.defaultType, samples: [] },
      declared: new Set(),
    };
    this.byName.set(name, state);
    this.families.push(state.family);
    return state;
  }

  private enter(cur: LineCursor, state: FamilyState): void {
    if (state === this.current) return;
    if (this.dialect.contiguousFamilies && this.current !== undefined && this.wasLeft.has(state)) {
      cur.fail(`metric family ${state.family.name} is interleaved with another family`);
    }
    if (this.current) this.wasLeft.add(this.current);
    this.current = state;
  }
}

function parseFloatToken(cur: LineCursor, token: string): number {
  if (!FLOAT.test(token)) cur.fail(`invalid value "${token}"`);
  const lower = token.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) {
    return token.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return Number(token);
}

/** A position in one line; every `fail` carries the line number. */
class LineCursor {
  pos = 0;

  constructor(
    readonly text: string,
    readonly line: number,
    private readonly dialect: Dialect,
  ) {}

  fail(reason: string): never {
    throw new ExpositionError('EXPOSITION_SYNTAX', reason, this.line);
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text.charAt(this.pos);
  }

  expect(char: string): void {
    if (this.peek() !== char) {
      this.fail(this.atEnd() ? `expected "${char}" at the end of the line` : `expected "${char}"`);
    }
    this.pos++;
  }

  skipBlanks(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  optionalBlanks(): void {
    if (this.dialect.lenientWhitespace) this.skipBlanks();
  }

  /** A separator between tokens: blanks and tabs in 0.0.4, exactly one space in OpenMetrics. */
  separator(before: string): void {
    const start = this.pos;
    if (this.dialect.lenientWhitespace) this.skipBlanks();
    else if (this.peek() === ' ') this.pos++;
    if (this.pos === start) this.fail(`expected a space before the ${before}`);
  }

  /** Consumes a separator and returns true, or returns false at the end of the line (after trailing blanks in 0.0.4). */
  gapOrEnd(): boolean {
    if (this.dialect.lenientWhitespace) {
      this.skipBlanks();
      return !this.atEnd();
    }
    if (this.atEnd()) return false;
    this.expect(' ');
    return true;
  }

  endOfLine(): void {
    this.optionalBlanks();
    if (!this.atEnd()) this.fail(`unexpected text "${this.text.slice(this.pos, this.pos + 20)}"`);
  }

  readToken(what: string): string {
    const start = this.pos;
    while (!this.atEnd() && this.peek() !== ' ' && this.peek() !== '\t') this.pos++;
    if (this.pos === start) this.fail(`expected a ${what}`);
    return this.text.slice(start, this.pos);
  }

  /** `pattern` must be sticky (`y`), so it matches at the cursor without copying the rest of the line. */
  readMatch(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.pos;
    const match = pattern.exec(this.text);
    if (!match) this.fail(`expected a ${what}`);
    this.pos += match[0].length;
    return match[0];
  }

  rest(): string {
    const rest = this.text.slice(this.pos);
    this.pos = this.text.length;
    return rest;
  }

  /** A double-quoted label value; escapes are `\\`, `\"` and `\n` in both formats. */
  readQuoted(): string {
    this.expect('"');
    let value = '';
    let start = this.pos;
    for (;;) {
      if (this.atEnd()) this.fail('unterminated label value');
      const char = this.peek();
      if (char === '"') break;
      if (char === '\\') {
        value +=
          this.text.slice(start, this.pos) +
          this.unescape(this.text.charAt(this.pos + 1), true, 'label value');
        this.pos += 2;
        start = this.pos;
      } else {
        this.pos++;
      }
    }
    value += this.text.slice(start, this.pos);
    this.pos++;
    return value;
  }

  /** HELP text to the end of the line; `\"` is an escape in OpenMetrics only. */
  readEscapedRest(quoteEscapes: boolean): string {
    const text = this.rest();
    if (!text.includes('\\')) return text;
    let value = '';
    for (let index = 0; index < text.length; index++) {
      const char = text.charAt(index);
      if (char !== '\\') {
        value += char;
        continue;
      }
      value += this.unescape(text.charAt(index + 1), quoteEscapes, 'help text');
      index++;
    }
    return value;
  }

  private unescape(char: string, quoteEscapes: boolean, where: string): string {
    if (char === '\\') return '\\';
    if (char === 'n') return '\n';
    if (char === '"' && quoteEscapes) return '"';
    if (char === '')
      this.fail(
        where === 'label value' ? 'unterminated label value' : `lone backslash at the end of the ${where}`,
      );
    return this.fail(`invalid escape sequence "\\${char}" in ${where}`);
  }
}
