import type { Use } from '@lethe/api';

/**
 * Whether the latest use under a consent-based policy was made without consent (docs/consent.md):
 * it needs a purpose's consent and no use was consented since. The server decides this at ingest
 * and records the violation; the subject view carries what shows it per use.
 */
export function usedWithoutConsent(
  use: Pick<Use, 'consentPurpose' | 'lastConsentedUseAt' | 'lastUseAt'>,
): boolean {
  if (use.consentPurpose === undefined) return false;
  return (
    use.lastConsentedUseAt === undefined || Date.parse(use.lastConsentedUseAt) < Date.parse(use.lastUseAt)
  );
}

const SHOWN_CHARACTERS = 16;

/** A TC string runs to hundreds of characters: its start names it well enough in a table. */
export function shortenTcString(tcString: string): string {
  return tcString.length <= SHOWN_CHARACTERS ? tcString : `${tcString.slice(0, SHOWN_CHARACTERS)}…`;
}
