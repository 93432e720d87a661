/**
 * A setting that cannot be used: a value of the wrong form, an unknown key in the configuration
 * file, a file that cannot be read. The message names the setting, where its value came from and
 * what is allowed; commands print it and exit with code 2 before doing anything.
 */
export class ConfigError extends Error {}
