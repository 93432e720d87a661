import type { Taxonomy } from '../../lib/taxonomy.js';

/**
 * Whether consent covers every listed purpose. A consented purpose covers itself and every purpose
 * below it in the taxonomy (`marketing` covers `marketing.email`), not the other way round: consent
 * to newsletters is no consent to marketing in general. No purposes at all are always covered.
 */
export function purposesCovered(
  consent: Iterable<string>,
  purposes: Iterable<string>,
  purposeTaxonomy: Taxonomy,
): boolean {
  const given = [...consent];
  for (const purpose of purposes) {
    if (!given.some((consented) => purposeTaxonomy.covers(consented, purpose))) return false;
  }
  return true;
}
