/**
 * A set of database values that link rows (source-key and link columns), deduplicated by value
 * rather than by JS identity: `5`, `5n` and an equal Buffer are each one entry. The values are
 * kept as the driver returned them, so that they go back to the database with their own type.
 */
export class LinkingValues {
  readonly #values = new Map<string, unknown>();

  get size(): number {
    return this.#values.size;
  }

  /** Adds a value; false when it was already there or is NULL. */
  add(value: unknown): boolean {
    if (value === null || value === undefined) return false;
    const key = valueKey(value);
    if (this.#values.has(key)) return false;
    this.#values.set(key, value);
    return true;
  }

  has(value: unknown): boolean {
    return value !== null && value !== undefined && this.#values.has(valueKey(value));
  }

  values(): unknown[] {
    return [...this.#values.values()];
  }

  /** The union of several sets (each value once). */
  static union(sets: Iterable<LinkingValues>): LinkingValues {
    const union = new LinkingValues();
    for (const set of sets) for (const [key, value] of set.#values) union.#values.set(key, value);
    return union;
  }
}

function valueKey(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return `n:${String(value)}`;
  if (typeof value === 'string') return `s:${value}`;
  if (value instanceof Uint8Array) return `b:${Buffer.from(value).toString('hex')}`;
  if (value instanceof Date) return `d:${value.getTime()}`;
  if (typeof value === 'boolean') return `t:${String(value)}`;
  return `j:${JSON.stringify(value)}`;
}
