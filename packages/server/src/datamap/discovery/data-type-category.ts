import type { Taxonomy } from '../../lib/taxonomy.js';

/**
 * The category key a `data_type` label value stands for. Teams label series with what they call
 * the data (`ip`, `email`); the map speaks in taxonomy keys. In order:
 *   1. the source's own mapping (`dataTypes: { ip: user.device.ip_address }`);
 *   2. the value itself when it is a taxonomy key (`user.contact.email`);
 *   3. the one taxonomy key whose last segment is the value (`email` → `user.contact.email`);
 *   4. the value as it is — the graph shows it as an unknown category, so it gets noticed and mapped.
 */
export function categoryOfDataType(
  value: string,
  categories: Taxonomy,
  mapping: Readonly<Record<string, string>>,
): string {
  const mapped = mapping[value];
  if (mapped !== undefined) return mapped;
  if (categories.has(value)) return value;
  const byLastSegment = categories.entries().filter((entry) => entry.key.split('.').at(-1) === value);
  return byLastSegment.length === 1 && byLastSegment[0] ? byLastSegment[0].key : value;
}
