import { coversKey } from '../lib/taxonomy.js';
import type { Principal } from './principal.js';

/**
 * Field-level least privilege: a token that names categories sees a field only if one of the
 * field's categories is one of them or below one (`user.contact` admits `user.contact.email`).
 * A field without categories is hidden from such a token: deny by default.
 */
export function maySeeCategories(principal: Principal, fieldCategories: readonly string[]): boolean {
  const granted = principal.categories;
  if (granted === undefined) return true;
  return fieldCategories.some((category) => granted.some((allowed) => coversKey(allowed, category)));
}

/**
 * The categories of a list (a flow's, a discovery mapping's) that the principal may see: all of
 * them for a token without category limits.
 */
export function visibleCategories(principal: Principal, categories: readonly string[]): string[] {
  return categories.filter((category) => maySeeCategories(principal, [category]));
}
