import type { SuppressionHit } from '@lethe/api';
import { authorize, maySeeSubjectIds, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { hashIdentifier } from '../requests/identifiers.js';
import { toIso } from '../lib/time.js';
import type { AcceptedEvent } from './usage-batch.js';
import type { Store } from '../store/store.js';
import type { ServerSecrets } from '../auth/server-secrets.js';

/** How long the suppression list is trusted before it is read again (other nodes add to it). */
const LIST_TTL_MS = 5_000;

/**
 * Watches telemetry for people a completed erasure removed (DESIGN.md §6): the suppression list
 * holds only keyed hashes of their identifiers, so each new subject id is hashed the same way and
 * looked up. A hit is recorded (the data came back from somewhere); the events are still accepted,
 * since refusing them would hide the problem instead of showing it.
 */
export class SuppressionWatch {
  private list: { readonly hashes: Map<string, string>; readonly readAt: number } | undefined;

  constructor(
    private readonly store: Store,
    private readonly secrets: ServerSecrets,
    private readonly now: () => number = Date.now,
  ) {}

  /** Forget the cached list (an erasure just completed here). */
  invalidate(): void {
    this.list = undefined;
  }

  /** Checks a committed batch; returns how many of its events touched suppressed people. */
  async check(events: readonly AcceptedEvent[]): Promise<number> {
    const hashes = await this.hashes();
    if (hashes.size === 0 || events.length === 0) return 0;
    const key = await this.secrets.key('identifiers');
    const seen = new Map<string, string | undefined>();
    const hits = new Map<
      string,
      { request_id: string; subject: string; system: string; count: number; at: number }
    >();
    let flagged = 0;
    for (const event of events) {
      let requestId = seen.get(event.subject);
      if (!seen.has(event.subject)) {
        requestId = hashes.get(hashIdentifier('subject-id', event.subject, key));
        seen.set(event.subject, requestId);
      }
      if (requestId === undefined) continue;
      flagged += 1;
      const id = `${requestId}\0${event.subject}\0${event.system}`;
      const hit = hits.get(id) ?? {
        request_id: requestId,
        subject: event.subject,
        system: event.system,
        count: 0,
        at: event.at,
      };
      hit.count += 1;
      hit.at = Math.max(hit.at, event.at);
      hits.set(id, hit);
    }
    if (hits.size > 0) {
      const now = this.now();
      await this.store.transaction((repository) =>
        repository.requests.recordSuppressionHits(
          [...hits.values()].map((hit) => ({
            request_id: hit.request_id,
            subject: hit.subject,
            system: hit.system,
            first_seen_at: now,
            last_seen_at: now,
            count: hit.count,
          })),
        ),
      );
    }
    return flagged;
  }

  async hits(principal: Principal, limit = 500): Promise<SuppressionHit[]> {
    authorize(principal, 'requests:read');
    requireAllCategories(principal, 'Suppression hits name erased people');
    const rows = await this.store.repository.requests.suppressionHits(limit);
    const show = maySeeSubjectIds(principal)
      ? (subject: string) => subject
      : await this.secrets.pseudonymizer();
    return rows.map((row) => ({
      requestId: row.request_id,
      subject: show(row.subject),
      system: row.system,
      firstSeenAt: toIso(row.first_seen_at),
      lastSeenAt: toIso(row.last_seen_at),
      count: Number(row.count),
    }));
  }

  private async hashes(): Promise<Map<string, string>> {
    const now = this.now();
    if (!this.list || now - this.list.readAt > LIST_TTL_MS) {
      this.list = { hashes: await this.store.repository.requests.suppressionList(), readAt: now };
    }
    return this.list.hashes;
  }
}
