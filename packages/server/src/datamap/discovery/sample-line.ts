import type { Exemplar, Sample } from './exposition.js';
import type { Dialect } from './exposition-dialect.js';
import type { LineCursor } from './line-cursor.js';

/** Sticky (`y`) for `LineCursor.readMatch`; descriptor lines name their metric with it too. */
export const METRIC_NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const FLOAT = /^[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity)$|^nan$/i;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;
/** OpenMetrics caps the combined length of an exemplar's label names and values. */
const MAX_EXEMPLAR_LABEL_CHARS = 128;

type Labels = Record<string, string>;

/**
 * Reads a sample line (`name{labels} value [timestamp] [# exemplar]`) up to its end; which family
 * the sample belongs to is the parser's business.
 */
export function readSampleLine(cur: LineCursor, dialect: Dialect): Sample {
  const name = cur.readMatch(METRIC_NAME, 'metric name');
  const afterName = cur.pos;
  if (dialect.lenientWhitespace) cur.skipBlanks();
  let labels: Labels = Object.create(null) as Labels;
  if (cur.peek() === '{') labels = readLabelSet(cur, dialect);
  else cur.pos = afterName;
  cur.separator('value');
  const value = parseFloatToken(cur, cur.readToken('value'));
  let timestampMs: number | undefined;
  let exemplar: Exemplar | undefined;
  if (cur.gapOrEnd()) {
    let exemplarFollows = dialect.exemplars && cur.peek() === '#';
    if (!exemplarFollows) {
      timestampMs = readTimestamp(cur, dialect);
      if (cur.gapOrEnd()) {
        if (!dialect.exemplars || cur.peek() !== '#') cur.fail('unexpected text after the timestamp');
        exemplarFollows = true;
      }
    }
    if (exemplarFollows) exemplar = readExemplar(cur, dialect);
  }
  const sample: { -readonly [K in keyof Sample]: Sample[K] } = { name, labels, value };
  if (timestampMs !== undefined) sample.timestampMs = timestampMs;
  if (exemplar !== undefined) sample.exemplar = exemplar;
  return sample;
}

function readExemplar(cur: LineCursor, dialect: Dialect): Exemplar {
  cur.expect('#');
  cur.separator('exemplar labels');
  if (cur.peek() !== '{') cur.fail('expected { to start the exemplar labels');
  const labels = readLabelSet(cur, dialect);
  let chars = 0;
  for (const [name, value] of Object.entries(labels)) chars += [...name].length + [...value].length;
  if (chars > MAX_EXEMPLAR_LABEL_CHARS) {
    cur.fail(`exemplar labels are longer than ${MAX_EXEMPLAR_LABEL_CHARS} characters`);
  }
  cur.separator('exemplar value');
  const value = parseFloatToken(cur, cur.readToken('exemplar value'));
  const timestampMs = cur.gapOrEnd() ? readTimestamp(cur, dialect) : undefined;
  if (!cur.atEnd()) cur.fail('unexpected text after the exemplar');
  return timestampMs === undefined ? { labels, value } : { labels, value, timestampMs };
}

function readTimestamp(cur: LineCursor, dialect: Dialect): number {
  const token = cur.readToken('timestamp');
  const seconds = dialect.timestampsInSeconds;
  if (!(seconds ? DECIMAL : INTEGER).test(token)) cur.fail(`invalid timestamp "${token}"`);
  const timestampMs = seconds ? Math.round(Number(token) * 1000) : Number(token);
  if (!Number.isSafeInteger(timestampMs)) cur.fail(`timestamp "${token}" is out of range`);
  return timestampMs;
}

function readLabelSet(cur: LineCursor, dialect: Dialect): Labels {
  const labels = Object.create(null) as Labels;
  cur.expect('{');
  let afterComma = false;
  for (;;) {
    cur.optionalBlanks();
    if (cur.atEnd()) cur.fail('unterminated label set');
    if (cur.peek() === '}') {
      if (afterComma && !dialect.trailingCommaInLabels) cur.fail('trailing comma in label set');
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

function parseFloatToken(cur: LineCursor, token: string): number {
  if (!FLOAT.test(token)) cur.fail(`invalid value "${token}"`);
  const lower = token.toLowerCase();
  if (lower === 'nan') return Number.NaN;
  if (lower.endsWith('inf') || lower.endsWith('infinity')) {
    return token.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return Number(token);
}
