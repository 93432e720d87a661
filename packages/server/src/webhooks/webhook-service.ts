import { randomBytes } from 'node:crypto';
import type { Webhook, WebhookDelivery, WebhookInput, WebhookPatch } from '@lethe/api';
import { audit } from '../audit/audit-trail.js';
import type { MasterKey } from '../auth/master-key.js';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { toIso } from '../lib/time.js';
import type { Written } from '../datamap/datamap-service.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import type { DeliveryWithEvent } from './webhook-queries.js';
import type { WebhookSettings } from './webhook-settings.js';
import { newWebhookSecret } from './webhook-signature.js';
import type { WebhookRow } from './webhook-tables.js';
import { WebhookAddresses } from './webhook-address.js';
import { webhookUrlProblem } from './webhook-url.js';

export const DEFAULT_DUE_SOON_DAYS = 7;

/** The label a subscription's secret is wrapped under: an envelope opens for its own webhook only. */
export function secretLabel(name: string): string {
  return `webhook-secret:${name}`;
}

/**
 * Webhook subscriptions (docs/webhooks.md): an admin creates, changes and removes them; the
 * secret is made here, shown once (at creation and at each rotation) and kept wrapped under the
 * master key. Every change is audited with the subscription's name, never with its secret.
 */
export class WebhookService {
  private readonly addresses: WebhookAddresses;

  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
    private readonly settings: WebhookSettings,
  ) {
    this.addresses = new WebhookAddresses(settings.allowedNetworks);
  }

  async list(principal: Principal): Promise<Webhook[]> {
    authorize(principal, 'webhooks:read');
    return (await this.store.repository.webhooks.list()).map((row) => webhookRowToWebhook(row));
  }

  async get(principal: Principal, name: string): Promise<Webhook> {
    authorize(principal, 'webhooks:read');
    return webhookRowToWebhook(await this.existing(this.store.repository, name));
  }

  async create(principal: Principal, input: WebhookInput): Promise<Webhook> {
    authorize(principal, 'webhooks:write');
    this.checkUrl(input.url);
    const exists = () => new AppError('WEBHOOK_EXISTS', `A webhook named "${input.name}" exists already.`);
    return this.store.transaction(async (repository) => {
      if (await repository.webhooks.get(input.name)) throw exists();
      return this.insertIn(repository, principal, input);
    });
  }

  async change(principal: Principal, name: string, patch: WebhookPatch): Promise<Webhook> {
    authorize(principal, 'webhooks:write');
    if (patch.url !== undefined) this.checkUrl(patch.url);
    return this.store.transaction(async (repository) =>
      this.changeIn(repository, principal, await this.existing(repository, name), patch),
    );
  }

  /**
   * Creates or changes a subscription inside a caller's transaction (a manifest is applied as one
   * unit). Putting one as it stands writes nothing and no audit entry, so re-applying is quiet; a
   * created one carries its new secret, shown once.
   */
  async putIn(repository: Repository, principal: Principal, input: WebhookInput): Promise<Written<Webhook>> {
    authorize(principal, 'webhooks:write');
    this.checkUrl(input.url);
    const previous = await repository.webhooks.get(input.name);
    if (!previous) {
      return { value: await this.insertIn(repository, principal, input), created: true, changed: false };
    }
    const patch = {
      url: input.url,
      events: input.events,
      systems: input.systems ?? null,
      dueSoonDays: input.dueSoonDays ?? DEFAULT_DUE_SOON_DAYS,
    } satisfies WebhookPatch;
    const stored = webhookRowToWebhook(previous);
    const unchanged =
      stored.url === patch.url &&
      sameList(stored.events, patch.events) &&
      sameList(stored.systems ?? [], patch.systems ?? []) &&
      stored.dueSoonDays === patch.dueSoonDays;
    if (unchanged) return { value: stored, created: false, changed: false };
    return {
      value: await this.changeIn(repository, principal, previous, patch),
      created: false,
      changed: true,
    };
  }

  /** `remove` inside a caller's transaction (`--prune`). */
  async removeIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'webhooks:write');
    if (!(await repository.webhooks.delete(name))) throw notFound(name);
    await audit(repository, principal, 'webhook.delete', `webhook:${name}`);
  }

  private async insertIn(
    repository: Repository,
    principal: Principal,
    input: WebhookInput,
  ): Promise<Webhook> {
    const secret = newWebhookSecret();
    const now = Date.now();
    const row: WebhookRow = {
      name: input.name,
      url: input.url,
      events: sortedList(input.events),
      systems: input.systems ? sortedList(input.systems) : null,
      due_soon_days: input.dueSoonDays ?? DEFAULT_DUE_SOON_DAYS,
      secret: this.masterKey.wrap(secret, secretLabel(input.name)),
      created_at: now,
      created_by: principal.id,
      updated_at: now,
      updated_by: principal.id,
      failures: 0,
      paused_until: null,
    };
    // Two creates of one name at once: the second finds the name taken only when it inserts.
    if (!(await repository.webhooks.insert(row))) {
      throw new AppError('WEBHOOK_EXISTS', `A webhook named "${input.name}" exists already.`);
    }
    await audit(repository, principal, 'webhook.create', `webhook:${input.name}`);
    return { ...webhookRowToWebhook(row), secret };
  }

  private async changeIn(
    repository: Repository,
    principal: Principal,
    previous: WebhookRow,
    patch: WebhookPatch,
  ): Promise<Webhook> {
    // A new URL is a new receiver: its breaker starts closed.
    const changes: Partial<WebhookRow> = {
      ...(patch.url !== undefined && patch.url !== previous.url
        ? { url: patch.url, failures: 0, paused_until: null }
        : {}),
      ...(patch.events !== undefined ? { events: sortedList(patch.events) } : {}),
      ...(patch.systems !== undefined
        ? { systems: patch.systems === null ? null : sortedList(patch.systems) }
        : {}),
      ...(patch.dueSoonDays !== undefined ? { due_soon_days: patch.dueSoonDays } : {}),
      updated_at: Date.now(),
      updated_by: principal.id,
    };
    await repository.webhooks.update(previous.name, changes);
    await audit(repository, principal, 'webhook.change', `webhook:${previous.name}`);
    return webhookRowToWebhook({ ...previous, ...changes });
  }

  /** A new secret, shown once; deliveries from now on are signed with it only. */
  async rotateSecret(principal: Principal, name: string): Promise<Webhook> {
    authorize(principal, 'webhooks:write');
    return this.store.transaction(async (repository) => {
      const previous = await this.existing(repository, name);
      const secret = newWebhookSecret();
      const changes = {
        secret: this.masterKey.wrap(secret, secretLabel(name)),
        updated_at: Date.now(),
        updated_by: principal.id,
      };
      await repository.webhooks.update(name, changes);
      await audit(repository, principal, 'webhook.rotate-secret', `webhook:${name}`);
      return { ...webhookRowToWebhook({ ...previous, ...changes }), secret };
    });
  }

  async remove(principal: Principal, name: string): Promise<void> {
    authorize(principal, 'webhooks:write');
    await this.store.transaction(async (repository) => this.removeIn(repository, principal, name));
  }

  async deliveries(principal: Principal, name: string, limit: number): Promise<WebhookDelivery[]> {
    authorize(principal, 'webhooks:read');
    await this.existing(this.store.repository, name);
    return (await this.store.repository.webhooks.deliveriesOf(name, limit)).map((row) =>
      deliveryRowToDelivery(row),
    );
  }

  /**
   * Sends a delivery's event again, as a new delivery with its own attempts; the event keeps its
   * id (`webhook-id`), so a receiver that had processed it can tell.
   */
  async redeliver(principal: Principal, id: string): Promise<WebhookDelivery> {
    authorize(principal, 'webhooks:write');
    const delivery = await this.store.transaction(async (repository) => {
      const original = await repository.webhooks.getDelivery(id);
      if (!original) throw new AppError('WEBHOOK_DELIVERY_NOT_FOUND', `No webhook delivery "${id}".`);
      const now = Date.now();
      // The event is written first, so the log-retention sweep cannot delete it under us.
      if (!(await repository.webhooks.redispatch(original.event_id, now))) {
        throw new AppError(
          'WEBHOOK_DELIVERY_NOT_FOUND',
          `Webhook delivery "${id}" can no longer be sent: its event was pruned by the log retention.`,
        );
      }
      const row = {
        id: newDeliveryId(),
        webhook: original.webhook,
        event_id: original.event_id,
        status: 'pending' as const,
        attempts: 0,
        next_attempt_at: now,
        response_status: null,
        latency_ms: null,
        last_error: null,
        redelivery_of: original.id,
        created_at: now,
        delivered_at: null,
      };
      await repository.webhooks.addDelivery(row);
      await audit(repository, principal, 'webhook.redeliver', `webhook:${original.webhook} delivery:${id}`);
      return { ...original, ...row };
    });
    // Sent by the delivery job's next tick (every second by default).
    return deliveryRowToDelivery(delivery);
  }

  private checkUrl(url: string): void {
    const problem = webhookUrlProblem(url, this.settings.allowHttp, this.addresses);
    if (problem) throw new AppError('WEBHOOK_URL_INVALID', problem);
  }

  private async existing(repository: Repository, name: string): Promise<WebhookRow> {
    const row = await repository.webhooks.get(name);
    if (!row) throw notFound(name);
    return row;
  }
}

/** `whd_` and 32 hex digits. */
export function newDeliveryId(): string {
  return `whd_${randomBytes(16).toString('hex')}`;
}

/** Stored lists are sorted and without repeats, so that equal subscriptions compare equal. */
function sortedList(values: readonly string[]): string {
  return JSON.stringify([...new Set(values)].sort());
}

function sameList(stored: readonly string[], given: readonly string[]): boolean {
  return JSON.stringify(stored) === sortedList(given);
}

function notFound(name: string): AppError {
  return new AppError('WEBHOOK_NOT_FOUND', `No webhook named "${name}".`);
}

/** The subscription as the API shows it: never the secret (only `create` and `rotateSecret` add it). */
export function webhookRowToWebhook(row: WebhookRow, now = Date.now()): Webhook {
  return {
    name: row.name,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    ...(row.systems !== null ? { systems: JSON.parse(row.systems) as string[] } : {}),
    dueSoonDays: row.due_soon_days,
    createdAt: toIso(row.created_at),
    createdBy: row.created_by,
    updatedAt: toIso(row.updated_at),
    updatedBy: row.updated_by,
    ...(row.failures > 0 ? { consecutiveFailures: row.failures } : {}),
    // A pause that has ended is not shown: the next attempt probes the receiver.
    ...(row.paused_until !== null && row.paused_until > now ? { pausedUntil: toIso(row.paused_until) } : {}),
  };
}

export function deliveryRowToDelivery(row: DeliveryWithEvent, now = Date.now()): WebhookDelivery {
  return {
    id: row.id,
    webhook: row.webhook,
    eventId: row.event_id,
    type: row.type,
    status: row.status,
    attempts: row.attempts,
    ...(row.response_status !== null ? { responseStatus: row.response_status } : {}),
    ...(row.latency_ms !== null ? { latencyMs: row.latency_ms } : {}),
    ...(row.last_error !== null ? { error: row.last_error } : {}),
    ...(row.status === 'pending' && row.next_attempt_at !== null
      ? { nextAttemptAt: toIso(row.next_attempt_at) }
      : {}),
    ...(row.status === 'pending' && row.webhook_paused_until !== null && row.webhook_paused_until > now
      ? { pausedUntil: toIso(row.webhook_paused_until) }
      : {}),
    createdAt: toIso(row.created_at),
    ...(row.delivered_at !== null ? { deliveredAt: toIso(row.delivered_at) } : {}),
    ...(row.redelivery_of !== null ? { redeliveryOf: row.redelivery_of } : {}),
  };
}
