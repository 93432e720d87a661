import type { ExpositionLimits, MetricFamily, MetricType, Sample } from './exposition.js';
import type { Dialect } from './exposition-dialect.js';
import { ExpositionError } from './exposition-error.js';
import type { LineCursor } from './line-cursor.js';
import { METRIC_NAME, readSampleLine } from './sample-line.js';

const UNIT = /^[a-zA-Z0-9_:]*$/;

interface FamilyState {
  readonly family: { name: string; type: MetricType; help?: string; unit?: string; samples: Sample[] };
  readonly declared: Set<string>;
}

/**
 * Reads an exposition line by line: descriptor lines (`# HELP`, `# TYPE`, `# UNIT`, `# EOF`) and
 * sample lines, assembled into metric families in the order they first appear.
 */
export class ExpositionParser {
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
    const sample = readSampleLine(cur, this.dialect);
    const state = this.sampleTarget(cur, sample.name);
    if (++this.sampleCount > this.limits.maxSamples) {
      throw new ExpositionError('EXPOSITION_LIMIT', `more than ${this.limits.maxSamples} samples`, cur.line);
    }
    state.family.samples.push(sample);
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
