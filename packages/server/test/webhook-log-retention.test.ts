import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RightsRequestRow } from '../src/requests/request-tables.js';
import { parseDuration, type Duration } from '../src/lib/duration.js';
import type { Services } from '../src/services.js';
import type { WebhookDeliveryRow, WebhookDeliveryStatus } from '../src/webhooks/webhook-tables.js';
import { WebhookLogRetention } from '../src/webhooks/webhook-log-retention.js';
import { WebhookNotices } from '../src/webhooks/webhook-notices.js';
import { ALL_BACKENDS, availableBackends, openServices } from './support/backends.js';

const available = await availableBackends();
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12);
const OLD = NOW - 40 * DAY;
const RECENT = NOW - DAY;
const TODAY = '2026-12-07';

/** Notices given 40 days ago: which of them still stop a second announcement decides if they stay. */
const OLD_NOTICES = [
  'request.overdue:hooks:r-open',
  'request.due_soon:hooks:r-open',
  'request.overdue:hooks:r-done',
  'request.overdue:hooks:r-gone',
  'request.overdue:gone-hook:r-open',
  `expiries.due:${TODAY}:accounts`,
  'expiries.due:2026-10-01:accounts',
  'expiries.due:2026-10-01:orders',
];

function request(id: string, status: RightsRequestRow['status']): RightsRequestRow {
  return {
    id,
    type: 'delete',
    strategy: 'exact',
    jurisdiction: 'gdpr',
    status,
    source: 'api',
    identifiers_sealed: null,
    identifier_kinds: '["email"]',
    masked: 'p***@example.com',
    received_at: OLD - 60 * DAY,
    due_at: OLD - 30 * DAY,
    extended_at: null,
    extended_by: null,
    extension_reason: null,
    receipt_due_at: null,
    receipt_confirmed_at: null,
    receipt_confirmed_by: null,
    verification_required: 0,
    verified_at: null,
    verified_by: null,
    verification_method: null,
    approval_required: 0,
    approved_at: null,
    approved_by: null,
    status_reason: null,
    status_changed_by: null,
    previously_erased_by: null,
    rows_found: 0,
    actor_id: 'dpo-dora',
    actor_role: 'dpo',
    created_at: OLD - 60 * DAY,
    updated_at: OLD,
    started_at: null,
    completed_at: status === 'completed' ? OLD : null,
    pii_expires_at: null,
    delivered_at: null,
    pii_destroyed_at: null,
    knowledge_sealed: null,
    categories: null,
  };
}

/**
 * Webhook log retention (docs/webhooks.md, "Retention") on every backend, in pages of two rows:
 * settled deliveries and the events nothing refers to any more go after the retention; pending
 * deliveries, their events, undispatched events and the notices that still stop a second
 * announcement stay; and an overdue request is not announced again after a sweep.
 */
describe.each(ALL_BACKENDS)('webhook log retention: $name', (backend) => {
  const missing = !available.includes(backend);
  let services: Services;
  let dispose: () => Promise<void>;

  const delivery = (
    id: string,
    event: string,
    status: WebhookDeliveryStatus,
    at: number,
  ): WebhookDeliveryRow => ({
    id,
    webhook: 'hooks',
    event_id: event,
    status,
    attempts: 1,
    next_attempt_at: status === 'pending' ? NOW + DAY : null,
    response_status: status === 'delivered' ? 200 : 500,
    latency_ms: 3,
    last_error: null,
    redelivery_of: null,
    created_at: at,
    delivered_at: status === 'delivered' ? at : null,
  });

  beforeAll(async () => {
    if (missing) return;
    ({ services, dispose } = await openServices(backend));
    const queries = services.store.repository.webhooks;
    await queries.insert({
      name: 'hooks',
      url: 'https://127.0.0.1/hook',
      events: '["request.overdue","request.due_soon"]',
      systems: null,
      due_soon_days: 7,
      secret: 'not used here',
      created_at: OLD - 90 * DAY,
      created_by: 'admin',
      updated_at: OLD - 90 * DAY,
      updated_by: 'admin',
      failures: 0,
      paused_until: null,
    });
    const events: [string, number, number | null][] = [
      ['e-delivered', OLD, OLD],
      ['e-failed', OLD, OLD],
      ['e-pending', OLD, OLD],
      ['e-redelivered', OLD, OLD],
      ['e-recent', RECENT, RECENT],
      ['e-none', OLD, OLD],
      ['e-none-2', OLD, OLD],
      ['e-none-3', OLD, OLD],
      ['e-undispatched', OLD, null],
    ];
    for (const [id, at, dispatchedAt] of events) {
      await queries.addEvent({
        id,
        type: 'request.completed',
        system: null,
        webhook: null,
        data: '{}',
        created_at: at,
        dispatched_at: dispatchedAt,
      });
    }
    for (const row of [
      delivery('d-delivered', 'e-delivered', 'delivered', OLD),
      delivery('d-delivered-2', 'e-delivered', 'delivered', OLD + 1),
      delivery('d-failed', 'e-failed', 'failed', OLD),
      delivery('d-pending', 'e-pending', 'pending', OLD),
      delivery('d-redelivered', 'e-redelivered', 'failed', OLD),
      // A redelivery, made yesterday, of an old event: it keeps its event.
      delivery('d-redelivery', 'e-redelivered', 'delivered', RECENT),
      delivery('d-recent', 'e-recent', 'delivered', RECENT),
    ]) {
      await queries.addDelivery(row);
    }
    await services.store.repository.requests.insertRequest(request('r-open', 'failed'));
    await services.store.repository.requests.insertRequest(request('r-done', 'completed'));
    for (const key of OLD_NOTICES) {
      expect(await queries.claimNotice(key, OLD)).toBe(true);
    }
    expect(await queries.claimNotice('request.due_soon:hooks:r-done', RECENT)).toBe(true);
  }, 60_000);

  afterAll(async () => {
    if (missing) return;
    await dispose();
  });

  it.skipIf(missing)('deletes what is past the retention and no longer matters, in pages', async () => {
    const retention = new WebhookLogRetention(services.store, parseDuration('P30D') as Duration, 2);
    expect(await retention.run(NOW)).toEqual({ deliveries: 4, events: 5, notices: 5 });
    const queries = services.store.repository.webhooks;
    const left = await queries.deliveriesOf('hooks', 100);
    expect(left.map((row) => row.id).sort()).toEqual(['d-pending', 'd-recent', 'd-redelivery']);
    const undispatched = await queries.undispatched(10);
    expect(undispatched.map((row) => row.id)).toEqual(['e-undispatched']);
    // The events of the deliveries left are still there: the log reads them joined.
    expect((await queries.getDelivery('d-redelivery'))?.type).toBe('request.completed');
    expect((await queries.getDelivery('d-pending'))?.type).toBe('request.completed');
    expect(await queries.orphanEventsBefore(NOW, 10)).toEqual([]);
    const kept = await queries.noticed([...OLD_NOTICES, 'request.due_soon:hooks:r-done']);
    expect([...kept].sort()).toEqual([
      `expiries.due:${TODAY}:accounts`,
      'request.due_soon:hooks:r-done',
      'request.due_soon:hooks:r-open',
      'request.overdue:hooks:r-open',
    ]);
    // Again: nothing more to do.
    expect(await retention.run(NOW)).toEqual({ deliveries: 0, events: 0, notices: 0 });
  });

  it.skipIf(missing)(
    'keeps an old event a redelivery wrote, even before the redelivery refers to it',
    async () => {
      const queries = services.store.repository.webhooks;
      for (const id of ['e-old-redelivered', 'e-old-orphan']) {
        await queries.addEvent({
          id,
          type: 'request.completed',
          system: null,
          webhook: null,
          data: '{}',
          created_at: OLD,
          dispatched_at: OLD,
        });
      }
      await queries.addDelivery(delivery('d-old-failed', 'e-old-redelivered', 'failed', OLD));
      const admin = { id: 'retention-admin', role: 'admin' } as const;
      const again = await services.webhooks.redeliver(admin, 'd-old-failed');
      expect(again).toMatchObject({
        eventId: 'e-old-redelivered',
        status: 'pending',
        redeliveryOf: 'd-old-failed',
      });
      // The race on PostgreSQL: the sweep picked the event while the redelivery's insert was not yet
      // visible to it. The redelivery wrote the event first, so the delete skips it.
      expect(await queries.redispatch('e-old-orphan', NOW - DAY)).toBe(true);
      expect(await queries.deleteOrphanEvents(['e-old-orphan'], NOW - 30 * DAY)).toBe(0);
      const retention = new WebhookLogRetention(services.store, parseDuration('P30D') as Duration, 2);
      await retention.run(NOW);
      expect((await queries.getDelivery(again.id))?.type).toBe('request.completed');
      expect(await queries.orphanEventsBefore(NOW - 30 * DAY, 10)).not.toContain('e-old-orphan');
      // An event already pruned cannot be written again: a redelivery of it would never be sent.
      expect(await queries.redispatch('e-never-was', NOW)).toBe(false);
    },
  );

  it.skipIf(missing)('an overdue request is not announced again after the sweep', async () => {
    const before = (await services.store.repository.webhooks.undispatched(100)).length;
    const sweep = new WebhookNotices(
      services.store,
      async () => new Map(),
      () => NOW,
    );
    await sweep.run();
    expect((await services.store.repository.webhooks.undispatched(100)).length).toBe(before);
    // Without its notice, the still unfinished request would be announced again.
    await services.store.repository.webhooks.deleteNotices(['request.overdue:hooks:r-open']);
    await sweep.run();
    expect((await services.store.repository.webhooks.undispatched(100)).length).toBe(before + 1);
  });
});
