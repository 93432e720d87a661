import { parseArgs } from 'node:util';

/**
 * Parses `--name N` flags that must be positive integers; `1_000_000` and `1e6` are accepted so
 * that large sizes are easy to type. Unknown flags are an error, not silently ignored.
 */
export function positiveIntegerFlags<Name extends string>(
  argv: readonly string[],
  defaults: Record<Name, number>,
): Record<Name, number> {
  const options = Object.fromEntries(
    Object.keys(defaults).map((name) => [name, { type: 'string' }]),
  ) as Record<Name, { type: 'string' }>;
  const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  const result = { ...defaults };
  for (const name of Object.keys(defaults) as Name[]) {
    const text = (values as Record<string, string | undefined>)[name];
    if (text === undefined) continue;
    const value = Number(text.replaceAll('_', ''));
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`--${name} must be a positive integer, got "${text}"`);
    }
    result[name] = value;
  }
  return result;
}
