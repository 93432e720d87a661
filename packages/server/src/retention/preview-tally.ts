import type { PreviewSystem } from '@lethe/api';
import { DAY_MS } from '../lib/time.js';
import type { Expiry } from './expiry.js';
import type { FieldExpiryRow } from './retention-tables.js';

/** How many systems a preview names: the ones with most moves. */
export const PREVIEW_SYSTEMS = 10;

/** Who holds a field and whether a legal hold keeps it, after the change. */
export interface FieldOwnership {
  readonly ownerOf: (field: string) => string | undefined;
  readonly isHeld: (before: FieldExpiryRow, after: Expiry) => boolean;
}

/**
 * Counts what a previewed policy change does beyond earlier/later: the subject-fields that become
 * due the moment it is saved (their expiry moves from a later day to today, UTC, or earlier; a
 * field already erased is not due again, a held one is counted apart) and each system's share.
 */
export class PreviewTally {
  dueAtOnce = 0;
  heldAtOnce = 0;
  private readonly bySystem = new Map<string, PreviewSystem>();
  private readonly tomorrow: number;

  constructor(
    now: number,
    private readonly fields: FieldOwnership,
  ) {
    this.tomorrow = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  }

  readonly observe = (before: FieldExpiryRow, after: Expiry): void => {
    if (after.expiresAt === before.expires_at) return;
    const system = this.fields.ownerOf(before.field) ?? after.system;
    const share = this.bySystem.get(system) ?? { system, earlier: 0, later: 0, dueAtOnce: 0 };
    this.bySystem.set(system, share);
    if (after.expiresAt < before.expires_at) share.earlier += 1;
    else share.later += 1;
    const erased = before.erased_at !== null && before.erased_at >= before.last_use_at;
    if (erased || before.expires_at < this.tomorrow || after.expiresAt >= this.tomorrow) return;
    if (this.fields.isHeld(before, after)) {
      this.heldAtOnce += 1;
    } else {
      this.dueAtOnce += 1;
      share.dueAtOnce += 1;
    }
  };

  /** The systems with most moves first (ties by name), at most `PREVIEW_SYSTEMS`. */
  systems(): PreviewSystem[] {
    const moves = (share: PreviewSystem) => share.earlier + share.later;
    return [...this.bySystem.values()]
      .sort((a, b) => moves(b) - moves(a) || a.system.localeCompare(b.system))
      .slice(0, PREVIEW_SYSTEMS);
  }
}
