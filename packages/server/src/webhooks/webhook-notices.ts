import { OPEN_STATUSES } from '../requests/request-status.js';
import type { RightsRequestRow } from '../requests/request-tables.js';
import { toDay } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import { emitWebhookEvent, type WebhookEventInput } from './webhook-outbox.js';
import { requestEventData } from './request-event-data.js';

const DAY_MS = 86_400_000;
/** Requests read per page of a sweep. */
const REQUESTS_PER_PAGE = 1_000;

/**
 * The facts that time decides rather than a write (docs/webhooks.md): a request's deadline comes
 * near or passes, a day's fields are due. Each sweep finds them, and announces each once: the
 * notice key is written in the transaction of its event, so a crash between the two sends nothing
 * twice and loses nothing. Only the kinds some subscription takes are looked for.
 */
export class WebhookNotices {
  constructor(
    private readonly store: Store,
    /** Fields past expiry per system, holds left out: the overview's count. */
    private readonly pastExpiry: (now: number) => Promise<Map<string, number>>,
    private readonly now: () => number = Date.now,
  ) {}

  async run(): Promise<void> {
    const webhooks = await this.store.repository.webhooks.list();
    const wanted = (type: string) =>
      webhooks.filter((webhook) => (JSON.parse(webhook.events) as string[]).includes(type));
    const now = this.now();
    // Per subscription, like due-soon: one made after a request went overdue still hears of it.
    for (const webhook of wanted('request.overdue')) {
      for await (const request of this.unnoticed(now, `request.overdue:${webhook.name}:`)) {
        await this.announce(`request.overdue:${webhook.name}:${request.id}`, {
          type: 'request.overdue',
          webhook: webhook.name,
          data: requestEventData(request),
        });
      }
    }
    // Each subscription has its own horizon, so its due-soon events are its own.
    for (const webhook of wanted('request.due_soon')) {
      const horizon = now + webhook.due_soon_days * DAY_MS;
      for await (const request of this.unnoticed(horizon, `request.due_soon:${webhook.name}:`)) {
        if (request.due_at < now) continue;
        await this.announce(`request.due_soon:${webhook.name}:${request.id}`, {
          type: 'request.due_soon',
          webhook: webhook.name,
          data: { ...requestEventData(request), days: webhook.due_soon_days },
        });
      }
    }
    if (wanted('expiries.due').length > 0) await this.dailyDigest(now);
  }

  /**
   * One `expiries.due` per system and day, with the count of its fields due and not confirmed
   * erased; no subject ids: the receiver reads the feed with a token of its own, which shows it
   * what its role and system may see.
   */
  private async dailyDigest(now: number): Promise<void> {
    const day = toDay(now);
    // Once a day per system: counted after the usage journal is folded, not from a fold behind.
    await this.store.freshAggregates();
    const due = await this.pastExpiry(now);
    for (const [system, fields] of due) {
      if (fields === 0) continue;
      await this.announce(`expiries.due:${day}:${system}`, {
        type: 'expiries.due',
        system,
        data: {
          day,
          system,
          dueFields: fields,
          feed: `/v1/expiries/due?system=${encodeURIComponent(system)}`,
        },
      });
    }
  }

  /**
   * Every open request due before `before` not announced under `prefix` yet, a page at a time on
   * the (received_at, id) keyset: a capped read would look at the same, already announced, first
   * page on every sweep and never reach the rest; the notices given are read a page at a time,
   * so a sweep writes only for what is new.
   */
  private async *unnoticed(before: number, prefix: string): AsyncGenerator<RightsRequestRow> {
    let after: { receivedAt: number; id: string } | undefined;
    for (;;) {
      const page = await this.store.repository.requests.listRequests(
        { statuses: OPEN_STATUSES, dueBefore: before },
        { limit: REQUESTS_PER_PAGE, ...(after ? { after } : {}) },
      );
      const given = await this.store.repository.webhooks.noticed(page.map((request) => prefix + request.id));
      yield* page.filter((request) => !given.has(prefix + request.id));
      const last = page.at(-1);
      if (page.length < REQUESTS_PER_PAGE || !last) return;
      after = { receivedAt: last.received_at, id: last.id };
    }
  }

  private announce(key: string, event: WebhookEventInput): Promise<void> {
    return this.store.transaction(async (repository: Repository) => {
      if (await repository.webhooks.claimNotice(key, this.now()))
        await emitWebhookEvent(repository, event, this.now());
    });
  }
}
