import type { Finding } from './oracles.js';

/**
 * TEMPORARY. Findings of issue 16 that other branches are fixing while this fuzzer was written.
 * A finding matched here is counted apart (by id) instead of failing the run. The lead deletes
 * each entry when its branch is merged; once all are merged this list is empty and stays so.
 */
export interface KnownFinding {
  readonly id: string;
  readonly branch: string;
  readonly matches: (finding: Finding) => boolean;
}

export const KNOWN_UNTIL_MERGED: readonly KnownFinding[] = [];

/** The known finding a finding is, if any. */
export function knownAs(finding: Finding): string | undefined {
  return KNOWN_UNTIL_MERGED.find((known) => known.matches(finding))?.id;
}
