import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { closest } from 'fastest-levenshtein';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { fileKey, SETTINGS, type SettingDefinition } from './setting-list.js';
import { isValueOf, typeForm } from './setting-types.js';
import { Settings, type ResolvedSetting } from './settings.js';

export interface SettingInputs {
  /** Values given on the command line (`--port 8080`), by the setting's variable name. */
  readonly flags?: Readonly<Record<string, string | undefined>>;
  /** The process environment (or a test's). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Where relative paths given by flag or environment are resolved; default the working directory. */
  readonly cwd?: string;
}

/**
 * Resolves every declared setting: a command-line flag, else the environment variable, else the
 * key in the configuration file, else the default. The file is read only when `--config` or
 * `LETHE_CONFIG` names it. An empty value counts as unset, as it always has for variables. Throws
 * a `ConfigError` naming the setting, its source and the accepted form for the first bad value.
 */
export function loadSettings(inputs: SettingInputs): Settings {
  const flags = inputs.flags ?? {};
  const cwd = inputs.cwd ?? process.cwd();
  const given = (text: string | undefined) => (text === undefined || text === '' ? undefined : text);
  const configPath = given(flags['LETHE_CONFIG']) ?? given(inputs.env['LETHE_CONFIG']);
  const file = configPath === undefined ? undefined : resolve(cwd, configPath);
  const fileValues = file === undefined ? new Map<string, string>() : readConfigFile(file);

  const resolved = new Map<string, ResolvedSetting>();
  for (const setting of SETTINGS) {
    const key = fileKey(setting.env);
    const flag = given(flags[setting.env]);
    const variable = given(inputs.env[setting.env]);
    const fromFile = fileValues.get(setting.env);
    const resolution: ResolvedSetting =
      flag !== undefined
        ? { value: flag, source: 'flag', origin: setting.flag ?? setting.env }
        : variable !== undefined
          ? { value: variable, source: 'environment', origin: setting.env }
          : fromFile !== undefined
            ? { value: fromFile, source: 'file', origin: `${key} in ${file}` }
            : { value: setting.default, source: 'default', origin: `${setting.env} (default)` };
    check(setting, resolution);
    resolved.set(setting.env, resolution);
  }
  return new Settings(resolved, file);
}

/** A refused value as an error may show it: a secret's never (a URL's scheme at most). */
function shown(setting: SettingDefinition, value: string): string {
  if (!setting.secret) return `"${value}"`;
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(value)?.[1];
  return scheme
    ? `a ${scheme}: value (not shown: it may hold a secret)`
    : 'a value not shown (it may hold a secret)';
}

function check(setting: SettingDefinition, resolution: ResolvedSetting): void {
  const { value } = resolution;
  if (value === undefined || isValueOf(setting.type, value)) return;
  throw new ConfigError(
    `${resolution.origin} must be ${typeForm(setting.type)}; got ${shown(setting, value)}`,
  );
}

/**
 * The file's values by variable name. The file is a YAML mapping of `lethe.yaml` keys to
 * scalars (a list for list settings); relative paths in it are relative to the file, so that the
 * file means the same from any working directory.
 */
function readConfigFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(
      `cannot read the configuration file ${file} (${code}); check --config or LETHE_CONFIG`,
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(
      `${file} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (document === null || document === undefined) return new Map();
  if (typeof document !== 'object' || Array.isArray(document))
    throw new ConfigError(`${file} must be a mapping of settings (like \`port: 7420\`)`);

  const byKey = new Map(SETTINGS.map((setting) => [fileKey(setting.env), setting]));
  const readable = SETTINGS.filter((setting) => !setting.notInFile).map((setting) => fileKey(setting.env));
  const values = new Map<string, string>();
  for (const [key, raw] of Object.entries(document as Record<string, unknown>)) {
    const setting = byKey.get(key);
    if (!setting) {
      // Compared as a key (`LETHE_DATA_DIR` and `Data_Dir` both suggest `data_dir`).
      throw new ConfigError(
        `${file}: unknown setting "${key}"; did you mean "${closest(fileKey(key), readable)}"? ` +
          '(docs/configuration.md lists them all)',
      );
    }
    if (setting.notInFile) {
      throw new ConfigError(
        `${file}: "${key}" is not read from the configuration file; set ${setting.env} in the environment`,
      );
    }
    const value = scalarText(file, key, setting, raw);
    if (value === undefined) continue;
    values.set(setting.env, setting.type.kind === 'path' ? resolve(dirname(file), value) : value);
  }
  return values;
}

function scalarText(file: string, key: string, setting: SettingDefinition, raw: unknown): string | undefined {
  if (raw === null) return undefined;
  if (typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  if (Array.isArray(raw) && setting.type.kind === 'list' && raw.every((item) => typeof item === 'string'))
    return raw.join(',');
  throw new ConfigError(`${key} in ${file} must be ${typeForm(setting.type)}; got ${JSON.stringify(raw)}`);
}
