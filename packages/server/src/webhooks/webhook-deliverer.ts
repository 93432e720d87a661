import { backoffDelay } from '@lethe/api';
import type { MasterKey } from '../auth/master-key.js';
import type { Logger } from '../lib/logger.js';
import { toIso } from '../lib/time.js';
import type { Store } from '../store/store.js';
import { WebhookAddresses } from './webhook-address.js';
import { attemptErrorText } from './webhook-error-text.js';
import { InFlight } from './webhook-in-flight.js';
import { postToReceiver, resolveWithDns } from './webhook-post.js';
import type { DeliveryWithEvent } from './webhook-queries.js';
import { newDeliveryId, secretLabel } from './webhook-service.js';
import type { WebhookSettings } from './webhook-settings.js';
import { signWebhook } from './webhook-signature.js';
import type { WebhookEventRow, WebhookRow } from './webhook-tables.js';

/** Events turned into deliveries per transaction, and due deliveries read per tick. */
const DISPATCH_BATCH = 200;
const SEND_BATCH = 50;
/** Attempts under way at once on a node: in all, and per subscription (one while its breaker probes). */
export const MAX_IN_FLIGHT = 16;
export const MAX_IN_FLIGHT_PER_WEBHOOK = 4;
/** Past the timeout, how long an attempt's claim lasts before another node may take it. */
const CLAIM_MARGIN_MS = 5_000;

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
 * Webhooks way, to a public address only (or one in the allowed networks), pinned once checked.
 * A 2xx answer delivers; anything else (a status, a timeout, a refused connection) is retried with
 * exponential backoff and jitter until `maxAttempts`, then the delivery is failed. Attempts run
 * without the tick waiting for them, a few per subscription at most, so that a receiver that
 * hangs holds up only its own deliveries; a subscription whose attempts fail `breakerFailures`
 * times in a row pauses (its circuit breaker). Several nodes may run it: dispatching and each
 * attempt are claimed compare-and-set, and the breaker is kept in the store.
 */
export class WebhookDeliverer {
  private readonly inFlight = new InFlight();
  private readonly addresses: WebhookAddresses;
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly settings: WebhookSettings,
    private readonly log: Logger,
    private readonly counter?: DeliveryCounter,
    private readonly now: () => number = Date.now,
  ) {
    this.addresses = new WebhookAddresses(settings.allowedNetworks);
  }

  /** Dispatches the outbox and starts the due attempts; does not wait for them to end. */
  async tick(): Promise<void> {
    while ((await this.dispatch()) === DISPATCH_BATCH);
    if (!this.stopped) await this.sendDue();
  }

  /** Starts no more attempts and waits for those under way (each ends by its timeout at the latest). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.inFlight.drain();
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

  /** Starts attempts for due deliveries, within the limits in all and per subscription. */
  private async sendDue(): Promise<void> {
    if (this.inFlight.size >= MAX_IN_FLIGHT) return;
    const due = await this.store.repository.webhooks.due(this.now(), SEND_BATCH, this.inFlight.full());
    for (const delivery of due) {
      if (this.stopped || this.inFlight.size >= MAX_IN_FLIGHT) return;
      const probing = (delivery.webhook_failures ?? 0) >= this.settings.breakerFailures;
      const cap = probing ? 1 : MAX_IN_FLIGHT_PER_WEBHOOK;
      if (this.inFlight.has(delivery.id) || this.inFlight.count(delivery.webhook) >= cap) continue;
      this.inFlight.start(delivery.id, delivery.webhook, cap, () =>
        this.attempt(delivery).catch((error: unknown) =>
          this.log.error(
            { err: error, webhook: delivery.webhook, delivery: delivery.id },
            'webhook delivery attempt failed',
          ),
        ),
      );
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
      last_error: sent.ok ? null : (sent.error ?? `HTTP ${sent.status}`),
      delivered_at: sent.ok ? now : null,
    });
    this.counter?.inc({ outcome });
    const { breakerFailures, breakerPauseMs } = this.settings;
    const failures = await repository.webhooks.countOutcome(
      webhook.name,
      sent.ok,
      breakerFailures,
      now + breakerPauseMs,
    );
    if (failures === breakerFailures) {
      this.log.info(
        { webhook: webhook.name, failures, pausedForMs: breakerPauseMs },
        'webhook paused: its receiver failed too often in a row',
      );
    }
    if (outcome === 'failed') {
      this.log.error(
        { webhook: webhook.name, delivery: delivery.id, attempts },
        'webhook delivery failed for good',
      );
    }
  }

  /** One POST (webhook-post.ts); a failure is logged by its kind only, the detail goes to the server log. */
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
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Lethe-Webhooks',
        'webhook-id': delivery.event_id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, delivery.event_id, timestamp, body),
      };
      const status = await postToReceiver(
        { url: webhook.url, headers, body, timeoutMs: this.settings.timeoutMs },
        this.addresses,
        this.settings.resolve ?? resolveWithDns,
      );
      return { ok: status >= 200 && status < 300, status, latencyMs: latency() };
    } catch (error) {
      // The server's log (the operator's) keeps the detail; the delivery log (the API's) does not.
      const detail = error instanceof Error ? `${error.message}${causeOf(error)}` : String(error);
      this.log.info(
        { webhook: webhook.name, delivery: delivery.id, error: detail },
        'webhook attempt failed',
      );
      return { ok: false, latencyMs: latency(), error: attemptErrorText(error) };
    }
  }
}

function causeOf(error: Error): string {
  return error.cause instanceof Error ? `: ${error.cause.message}` : '';
}
