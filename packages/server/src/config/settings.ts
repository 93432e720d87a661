import { settingByEnv } from './setting-list.js';

/** Where a setting's value came from, in precedence order: a flag wins over everything else. */
export type SettingSource = 'flag' | 'environment' | 'file' | 'default';

export interface ResolvedSetting {
  /** The value as text; undefined when no source sets it and it has no default value. */
  readonly value: string | undefined;
  readonly source: SettingSource;
  /** How to name it in a message: `--port`, `PORT`, `port in /etc/lethe/lethe.yaml`, `PORT (default)`. */
  readonly origin: string;
}

/**
 * The settings of one run, checked: every declared setting resolved from flags, environment,
 * configuration file and defaults (see `loadSettings`). Features keep their own parsers of a
 * setting's text (a rate, a role map); they read the texts from `explicit`, never from
 * `process.env`.
 */
export class Settings {
  constructor(
    private readonly resolved: ReadonlyMap<string, ResolvedSetting>,
    /** The configuration file read (absolute), if any. */
    readonly file: string | undefined,
  ) {}

  /** The value of the setting whose variable is `env`, else its default; undefined if neither. */
  get(env: string): string | undefined {
    return this.resolution(env).value;
  }

  resolution(env: string): ResolvedSetting {
    const resolved = this.resolved.get(env);
    // A name missing from the list is a programming error: the list is the single declaration.
    if (!resolved || !settingByEnv(env)) throw new Error(`${env} is not a declared setting`);
    return resolved;
  }

  /**
   * The values some source set (flag, environment or file), by variable name, without defaults:
   * what the features' parsers (`rateLimitFromEnv`, `natsSettingsFromEnv`, …) read. Defaults stay
   * with those parsers, since "unset" means something to some of them (OIDC off, NATS off).
   */
  get explicit(): Readonly<Record<string, string>> {
    const values: Record<string, string> = {};
    for (const [env, resolved] of this.resolved)
      if (resolved.source !== 'default' && resolved.value !== undefined) values[env] = resolved.value;
    return values;
  }
}
