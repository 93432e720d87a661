import { backoffDelay } from '@lethe/api';
import type { MasterKey } from '../auth/master-key.js';
import type { Logger } from '../lib/logger.js';
import { toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import type { DeliveryWithEvent } from './webhook-queries.js';
import { newDeliveryId, secretLabel } from './webhook-service.js';
import type { WebhookSettings } from './webhook-settings.js';
import { signWebhook } from './webhook-signature.js';
import type { WebhookEventRow, WebhookRow } from './webhook-tables.js';

/** Events turned into deliveries per transaction, and deliveries sent per tick. */
const DISPATCH_BATCH = 200;
const SEND_BATCH = 50;
/** Receivers called at once. */
const SEND_CONCURRENCY = 8;
/** Past the timeout, how long an attempt's claim lasts before another node may take it. */
const CLAIM_MARGIN_MS = 5_000;
/** What the delivery log keeps of an error. */
const ERROR_CHARS = 500;

export type DeliveryOutcome = 'delivered' | 'retry' | 'failed';

/** Where outcomes are counted (`lethe_webhook_deliveries_total`). */
export interface DeliveryCounter {
  inc(labels: { outcome: DeliveryOutcome }): void;
}

/** Whether a subscription takes an event: its type, its target, and its system filter. */
export function subscribes(webhook: WebhookRow, event: WebhookEventRow): boolean {
  if (event.webhook !== null && event.webhook !== webhook.name) return false;
  if (!(JSON.parse(webhook.events) as string[]).includes(event.type)) return false;
  // The filter limits the events that concern one system; the others (requests, drift) span all.
  if (webhook.systems === null || event.system === null) return true;
  return (JSON.parse(webhook.systems) as string[]).includes(event.system);
}

/**
 * Delivers the outbox (docs/webhooks.md): each tick turns new events into one delivery per
 * subscription that takes them, then sends the deliveries that are due, signed the Standard
 * Webhooks way. A 2xx answer delivers; anything else (a status, a timeout, a refused connection)
 * is retried with exponential backoff and jitter until `maxAttempts`, then the delivery is failed.
 * Several nodes may run it: dispatching and each attempt are claimed compare-and-set.
 */
export class WebhookDeliverer {
  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly settings: WebhookSettings,
    private readonly log: Logger,
    private readonly counter?: DeliveryCounter,
    private readonly now: () => number = Date.now,
  ) {}

  async tick(): Promise<void> {
    while ((await this.dispatch()) === DISPATCH_BATCH);
    await this.sendDue();
  }

  /** Turns up to a batch of outbox events into deliveries; returns how many events it read. */
  private async dispatch(): Promise<number> {
    return this.store.transaction(async (repository) => {
      const events = await repository.webhooks.undispatched(DISPATCH_BATCH);
      if (events.length === 0) return 0;
      const webhooks = await repository.webhooks.list();
      const now = this.now();
      for (const event of events) {
        if (!(await repository.webhooks.markDispatched(event.id, now))) continue;
        for (const webhook of webhooks.filter((candidate) => subscribes(candidate, event))) {
          await repository.webhooks.addDelivery({
            id: newDeliveryId(),
            webhook: webhook.name,
            event_id: event.id,
            status: 'pending',
            attempts: 0,
            next_attempt_at: now,
            response_status: null,
            latency_ms: null,
            last_error: null,
            redelivery_of: null,
            created_at: now,
            delivered_at: null,
          });
        }
      }
      return events.length;
    });
  }

  private async sendDue(): Promise<void> {
    const due = await this.store.repository.webhooks.due(this.now(), SEND_BATCH);
    for (let start = 0; start < due.length; start += SEND_CONCURRENCY) {
      await Promise.all(due.slice(start, start + SEND_CONCURRENCY).map((delivery) => this.attempt(delivery)));
    }
  }

  private async attempt(delivery: DeliveryWithEvent): Promise<void> {
    const repository = this.store.repository;
    const leaseUntil = this.now() + this.settings.timeoutMs + CLAIM_MARGIN_MS;
    if (!(await repository.webhooks.claim(delivery.id, delivery.next_attempt_at ?? 0, leaseUntil))) return;
    const webhook = await repository.webhooks.get(delivery.webhook);
    if (!webhook) return;
    const sent = await this.send(webhook, delivery);
    const attempts = delivery.attempts + 1;
    const now = this.now();
    const outcome: DeliveryOutcome = sent.ok
      ? 'delivered'
      : attempts >= this.settings.maxAttempts
        ? 'failed'
        : 'retry';
    await repository.webhooks.recordAttempt(delivery.id, {
      status: outcome === 'retry' ? 'pending' : outcome,
      attempts,
      next_attempt_at:
        outcome === 'retry'
          ? now +
            backoffDelay(attempts, {
              baseMs: this.settings.baseDelayMs,
              maxMs: this.settings.maxDelayMs,
              jitter: 'equal',
            })
          : null,
      response_status: sent.status ?? null,
      latency_ms: sent.latencyMs,
      last_error: sent.ok ? null : (sent.error ?? `HTTP ${sent.status}`).slice(0, ERROR_CHARS),
      delivered_at: sent.ok ? now : null,
    });
    this.counter?.inc({ outcome });
    if (outcome === 'failed') {
      this.log.error(
        { webhook: webhook.name, delivery: delivery.id, attempts },
        'webhook delivery failed for good',
      );
    }
  }

  /** One POST; redirects are not followed (the receiver's address is the one an admin set). */
  private async send(
    webhook: WebhookRow,
    delivery: DeliveryWithEvent,
  ): Promise<{ ok: boolean; status?: number; latencyMs: number; error?: string }> {
    const body = JSON.stringify({
      id: delivery.event_id,
      type: delivery.type,
      createdAt: toIso(delivery.event_created_at),
      data: JSON.parse(delivery.data) as unknown,
    });
    const timestamp = Math.floor(this.now() / 1000);
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    try {
      const secret = this.masterKey.unwrapText(webhook.secret, secretLabel(webhook.name));
      const response = await fetch(webhook.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Lethe-Webhooks',
          'webhook-id': delivery.event_id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(secret, delivery.event_id, timestamp, body),
        },
        body,
      });
      // The answer's body is not kept: only its status says whether the event arrived.
      await response.body?.cancel();
      return {
        ok: response.status >= 200 && response.status < 300,
        status: response.status,
        latencyMs: latency(),
      };
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const message = error instanceof Error ? `${error.message}${cause}` : String(error);
      return { ok: false, latencyMs: latency(), error: message };
    }
  }
}
