import type {
  Webhook,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookInput,
  WebhookList,
  WebhookPatch,
} from '@lethe/api';
import { searchParams, segment } from './http-transport.js';
import { ClientBase, type RequestOptions } from './client-base.js';

/** Webhook subscriptions and their delivery log (docs/webhooks.md): the part of {@link LetheClient}. */
export abstract class WebhooksClient extends ClientBase {
  async listWebhooks(options?: RequestOptions): Promise<WebhookList> {
    return this.transport.json({ method: 'GET', path: '/v1/webhooks', ...options });
  }

  async getWebhook(name: string, options?: RequestOptions): Promise<Webhook> {
    return this.transport.json({ method: 'GET', path: webhookPath(name), ...options });
  }

  /** Subscribes a receiver; the answer carries the signing `secret`, shown this once. */
  async createWebhook(input: WebhookInput, options?: RequestOptions): Promise<Webhook> {
    return this.transport.json({ method: 'POST', path: '/v1/webhooks', body: input, ...options });
  }

  /** Replaces the fields given; `systems: null` removes the filter. */
  async updateWebhook(name: string, patch: WebhookPatch, options?: RequestOptions): Promise<Webhook> {
    return this.transport.json({ method: 'PATCH', path: webhookPath(name), body: patch, ...options });
  }

  async deleteWebhook(name: string, options?: RequestOptions): Promise<void> {
    await this.transport.json({ method: 'DELETE', path: webhookPath(name), ...options });
  }

  /** A new secret, shown once in the answer; deliveries from then on are signed with it only. */
  async rotateWebhookSecret(name: string, options?: RequestOptions): Promise<Webhook> {
    return this.transport.json({ method: 'POST', path: `${webhookPath(name)}/secret`, ...options });
  }

  /** The subscription's delivery log, newest first. */
  async listWebhookDeliveries(
    name: string,
    query: { limit?: number } = {},
    options?: RequestOptions,
  ): Promise<WebhookDeliveryList> {
    return this.transport.json({
      method: 'GET',
      path: `${webhookPath(name)}/deliveries`,
      query: searchParams(query),
      ...options,
    });
  }

  /** Queues the delivery's event again, as a new delivery naming the original (`redeliveryOf`). */
  async redeliverWebhookDelivery(id: string, options?: RequestOptions): Promise<WebhookDelivery> {
    const path = `/v1/webhooks/deliveries/${segment(id)}/redeliver`;
    return this.transport.json({ method: 'POST', path, ...options });
  }
}

function webhookPath(name: string): string {
  return `/v1/webhooks/${segment(name)}`;
}
