import { parseDuration as parseIsoDuration } from '../lib/duration.js';
import { parseDuration as parseShortDuration } from '../auth/token-rules.js';

/**
 * The kinds of value a setting takes. Each names its accepted form (for the reference table and
 * for errors) and checks a value's text; the feature that uses the setting may check more (a
 * minimum, a combination with another setting) when the server starts.
 */
export type SettingType =
  | { readonly kind: 'string' }
  | { readonly kind: 'path' }
  | { readonly kind: 'url'; readonly protocols: readonly string[] }
  | { readonly kind: 'integer'; readonly min: number; readonly max?: number }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'choice'; readonly choices: readonly string[] }
  | { readonly kind: 'short-duration' }
  | { readonly kind: 'iso-duration' }
  | { readonly kind: 'rate'; readonly example: string; readonly off: boolean }
  | { readonly kind: 'list' }
  | { readonly kind: 'pattern'; readonly pattern: RegExp; readonly form: string };

/** How a value of this type is written, for the reference table and for error messages. */
export function typeForm(type: SettingType): string {
  switch (type.kind) {
    case 'string':
      return 'text';
    case 'path':
      return 'a file or directory path';
    case 'url':
      return `a URL (${type.protocols.join(', ')})`;
    case 'integer':
      return type.max === undefined
        ? `an integer ≥ ${type.min}`
        : `an integer from ${type.min} to ${type.max}`;
    case 'boolean':
      return '`true` or `false`';
    case 'choice':
      return `one of ${type.choices.map((choice) => `\`${choice}\``).join(', ')}`;
    case 'short-duration':
      return 'a duration like `90s`, `30m`, `24h` or `7d`';
    case 'iso-duration':
      return 'an ISO 8601 duration like `P30D` or `PT12H`';
    case 'rate':
      return `a rate like ${type.example}${type.off ? ', or `off`' : ''}`;
    case 'list':
      return 'a comma-separated list (a YAML list in the file)';
    case 'pattern':
      return type.form;
  }
}

const RATE = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?$/i;

/** Whether `text` is a value of `type`; an empty text means "unset" and is checked by nobody. */
export function isValueOf(type: SettingType, text: string): boolean {
  switch (type.kind) {
    case 'string':
    case 'path':
    case 'list':
      return true;
    case 'url':
      try {
        return type.protocols.includes(new URL(text).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    case 'integer': {
      if (!/^-?\d+$/.test(text)) return false;
      const value = Number(text);
      return (
        Number.isSafeInteger(value) && value >= type.min && (type.max === undefined || value <= type.max)
      );
    }
    case 'boolean':
      return text === 'true' || text === 'false';
    case 'choice':
      return type.choices.includes(text);
    case 'short-duration':
      return parseShortDuration(text) !== undefined;
    case 'iso-duration':
      return parseIsoDuration(text) !== undefined;
    case 'rate':
      if (type.off && /^(off|false|none|disabled)$/i.test(text)) return true;
      return Number(RATE.exec(text)?.[1]) > 0;
    case 'pattern':
      return type.pattern.test(text);
  }
}

/**
 * One setting: its environment variable (the name it has always had), the key that sets it in
 * `lethe.yaml` (the variable's name without `LETHE_`, in lower case), the command-line flag if
 * there is one, its type and default, what it does and which feature (docs page) it belongs to.
 * `docs/configuration.md` is generated from this list (`npm run docs:config`).
 */
export interface SettingDefinition {
  readonly env: string;
  readonly type: SettingType;
  /** The value used when no source sets it, as written; undefined: unset (the feature is off). */
  readonly default?: string;
  /** What the default means when it is not a value (`none: SQLite in the data directory`). */
  readonly defaultNote?: string;
  readonly description: string;
  /** The docs page of the feature, under docs/. */
  readonly feature: string;
  readonly flag?: string;
  /**
   * Secrets and the file's own location are not read from the file: a key or token written into
   * a configuration file ends up in version control and backups.
   */
  readonly notInFile?: boolean;
  /**
   * Never printed, also not when refused: a connection URL carries a password, a key is a key.
   * An error names the setting and where it came from, and for a URL only its scheme.
   */
  readonly secret?: boolean;
  /** Commands that read it besides `serve` (every command opening a store, or the client ones). */
  readonly readBy: 'serve' | 'store commands' | 'client commands' | 'every command';
}
