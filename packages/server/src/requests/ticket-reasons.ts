import { maySeeCategories } from '../auth/category-scope.js';
import type { Principal } from '../auth/principal.js';

const TELEMETRY = /^telemetry: (?:used|holds) (\S+)/;
const RECEIVES = /^data map: receives (.+) via (.+)$/;
const DATA_MAP = /^data map: (\S+) (.+)$/;
/** Reasons that name no field and no category, so every token may read them. */
const NEUTRAL = ['no rights client: the owning team gets a ticket', 'SQL connector: searched directly'];

/**
 * A task's reasons as a category-limited token may read them (request-planner.ts writes them):
 * a telemetry reason names a field, kept only if the token sees that field; a data-map reason
 * lists categories, narrowed to those the token sees and dropped when none is left. Any other
 * reason is dropped for such a token: deny by default, as for fields without categories.
 */
export function visibleReasons(
  principal: Principal,
  reasons: readonly string[],
  fieldCategories: ReadonlyMap<string, readonly string[]>,
): string[] {
  if (principal.categories === undefined) return [...reasons];
  const seen = (categories: readonly string[]) => maySeeCategories(principal, categories);
  return reasons.flatMap((reason) => {
    if (NEUTRAL.includes(reason)) return [reason];
    const telemetry = TELEMETRY.exec(reason);
    if (telemetry) return seen(fieldCategories.get(telemetry[1] ?? '') ?? []) ? [reason] : [];
    const receives = RECEIVES.exec(reason);
    const listed = receives ?? DATA_MAP.exec(reason);
    if (!listed) return [];
    const categories = (listed[receives ? 1 : 2] ?? '').split(', ').filter((category) => seen([category]));
    if (categories.length === 0) return [];
    return [
      receives
        ? `data map: receives ${categories.join(', ')} via ${receives[2]}`
        : `data map: ${listed[1]} ${categories.join(', ')}`,
    ];
  });
}
