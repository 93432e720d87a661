import type { Dialect } from './exposition-dialect.js';
import { ExpositionError } from './exposition-error.js';

/** A position in one line; every `fail` carries the line number. */
export class LineCursor {
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
