import { randomBytes } from 'node:crypto';
import type { WebhookEventType } from '@lethe/api';
import type { Repository } from '../store/repository.js';

/** An event as the feature that decides its fact reports it. */
export interface WebhookEventInput {
  readonly type: WebhookEventType;
  /** The one system the event concerns (a subscription's system filter goes by it). */
  readonly system?: string;
  /** Only this subscription receives it (its own `dueSoonDays` horizon decided it). */
  readonly webhook?: string;
  readonly data: Record<string, unknown>;
}

/** `msg_` and 32 hex digits: the event's id, the `webhook-id` every delivery of it carries. */
export function newEventId(): string {
  return `msg_${randomBytes(16).toString('hex')}`;
}

/**
 * Writes an event to the outbox inside the caller's transaction: it commits with the fact it
 * reports or not at all, and the delivery job sends it after the commit. Costs one insert, so a
 * feature may call it wherever it decides a fact, subscribers or not.
 */
export async function emitWebhookEvent(
  repository: Repository,
  event: WebhookEventInput,
  now: number = Date.now(),
): Promise<string> {
  const id = newEventId();
  await repository.webhooks.addEvent({
    id,
    type: event.type,
    system: event.system ?? null,
    webhook: event.webhook ?? null,
    data: JSON.stringify(event.data),
    created_at: now,
    dispatched_at: null,
  });
  return id;
}
