/**
 * Consent per (subject, purpose), as the retention rule needs it (DESIGN.md §4, docs/consent.md).
 *
 * The history of grants and withdrawals is kept whole; the state the hot path reads is derived
 * from it: the start of the latest grant interval and, when that interval has ended, the
 * withdrawal that ended it. Deriving it from the whole history (ordered by `at`, the time the
 * subject gave or withdrew consent) means a late-recorded old event lands in its place instead of
 * rolling the state back.
 */
export interface ConsentWindow {
  /** Epoch ms: start of the latest grant interval; null when consent was never granted. */
  readonly grantedAt: number | null;
  /** Epoch ms: end of that interval; null while consent stands (or when never granted nor withdrawn). */
  readonly withdrawnAt: number | null;
}

export const NO_CONSENT: ConsentWindow = { grantedAt: null, withdrawnAt: null };

/** One grant or withdrawal, as far as the state is concerned. */
export interface ConsentChange {
  readonly granted: boolean;
  /** Epoch ms the subject gave or withdrew consent. */
  readonly at: number;
  /** Epoch ms it was recorded; orders changes with the same `at`. */
  readonly recordedAt: number;
  /** Orders changes recorded in the same millisecond (their position in one request). */
  readonly seq: number;
}

/** The changes in the order they count: by `at`, then by when they were recorded. */
export function inConsentOrder<T extends ConsentChange>(changes: readonly T[]): T[] {
  return [...changes].sort((a, b) => a.at - b.at || a.recordedAt - b.recordedAt || a.seq - b.seq);
}

/**
 * The window of the latest grant interval. A grant while consent stands does not restart the
 * interval (uses since the first grant stay consented); a withdrawal while none stands changes
 * nothing but is kept as the latest withdrawal.
 *
 * @example
 * consentWindow([grant at 1, withdraw at 5, grant at 8])  // { grantedAt: 8, withdrawnAt: null }
 */
export function consentWindow(changes: readonly ConsentChange[]): ConsentWindow {
  let grantedAt: number | null = null;
  let withdrawnAt: number | null = null;
  let standing = false;
  for (const change of inConsentOrder(changes)) {
    if (change.granted && !standing) {
      grantedAt = change.at;
      withdrawnAt = null;
      standing = true;
    } else if (!change.granted && (standing || grantedAt === null)) {
      withdrawnAt = change.at;
      standing = false;
    }
  }
  return { grantedAt, withdrawnAt };
}

/** Whether consent stands now, i.e. the latest grant has not been withdrawn. */
export function consentStands(window: ConsentWindow): boolean {
  return window.grantedAt !== null && window.withdrawnAt === null;
}

/** A use at `at` is consented iff it lies in the latest grant interval: G <= at and (no W or at < W). */
export function isConsentedUse(window: ConsentWindow, at: number): boolean {
  return (
    window.grantedAt !== null &&
    window.grantedAt <= at &&
    (window.withdrawnAt === null || at < window.withdrawnAt)
  );
}
