/**
 * How database values leave the connector: JSON-safe for a DSAR's `values`, and as text for a
 * record's pk and semanticValue. The drivers are set up so that integers arrive as numbers when
 * they are safe and as bigint or decimal strings when they are not; nothing here rounds.
 */

/** A value as JSON can carry it: bytes as base64, big integers as decimal strings, dates as ISO 8601. */
export function toJsonSafe(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(toJsonSafe);
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, toJsonSafe(inner)]));
  }
  return String(value);
}

/** A value as text: what a record's pk and semanticValue show. NULL is the empty string. */
export function valueText(value: unknown): string {
  const safe = toJsonSafe(value);
  if (safe === null) return '';
  return typeof safe === 'object' ? JSON.stringify(safe) : String(safe);
}

/** One column: its value as text; several: `col=value` pairs joined with `,`. */
export function formatPrimaryKey(columns: readonly string[], row: Readonly<Record<string, unknown>>): string {
  if (columns.length === 1) return valueText(row[columns[0] as string]);
  return columns.map((column) => `${column}=${valueText(row[column])}`).join(',');
}
