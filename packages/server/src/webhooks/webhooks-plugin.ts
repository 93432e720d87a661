import {
  NameParams,
  Webhook,
  WebhookDelivery,
  WebhookDeliveriesQuery,
  WebhookDeliveryList,
  WebhookDeliveryParams,
  WebhookInput,
  WebhookList,
  WebhookPatch,
} from '@lethe/api';
import { principalOf } from '../http/authenticate.js';
import type { FeaturePlugin } from '../http/feature-plugin.js';
import type { TypedApp } from '../http/typed-app.js';
import type { WebhookService } from './webhook-service.js';

const tags = ['webhooks'];

/** Webhook subscriptions, their delivery log and redelivery (docs/webhooks.md). */
export const webhooksPlugin: FeaturePlugin = async (app, { services: { webhooks } }) => {
  subscriptionRoutes(app, webhooks);
  deliveryRoutes(app, webhooks);
};

function subscriptionRoutes(app: TypedApp, webhooks: WebhookService): void {
  app.get(
    '/v1/webhooks',
    {
      config: { action: 'webhooks:read' },
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhook subscriptions',
        tags,
        response: { 200: WebhookList },
      },
    },
    async (request) => ({ items: await webhooks.list(principalOf(request)) }),
  );

  app.post(
    '/v1/webhooks',
    {
      config: { action: 'webhooks:write' },
      schema: {
        operationId: 'createWebhook',
        summary: 'Subscribe a receiver to events; the answer shows the signing secret once',
        tags,
        body: WebhookInput,
        response: { 201: Webhook },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await webhooks.create(principalOf(request), request.body)),
  );

  app.get(
    '/v1/webhooks/:name',
    {
      config: { action: 'webhooks:read' },
      schema: {
        operationId: 'getWebhook',
        summary: 'Get a webhook subscription',
        tags,
        params: NameParams,
        response: { 200: Webhook },
      },
    },
    (request) => webhooks.get(principalOf(request), request.params.name),
  );

  app.patch(
    '/v1/webhooks/:name',
    {
      config: { action: 'webhooks:write' },
      schema: {
        operationId: 'changeWebhook',
        summary: 'Change a webhook subscription',
        tags,
        params: NameParams,
        body: WebhookPatch,
        response: { 200: Webhook },
      },
    },
    (request) => webhooks.change(principalOf(request), request.params.name, request.body),
  );

  app.delete(
    '/v1/webhooks/:name',
    {
      config: { action: 'webhooks:write' },
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Remove a webhook subscription',
        tags,
        params: NameParams,
      },
    },
    async (request, reply) => {
      await webhooks.remove(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );

  app.post(
    '/v1/webhooks/:name/secret',
    {
      config: { action: 'webhooks:write' },
      schema: {
        operationId: 'rotateWebhookSecret',
        summary: 'Replace the signing secret; the answer shows the new one once',
        tags,
        params: NameParams,
        response: { 200: Webhook },
      },
    },
    (request) => webhooks.rotateSecret(principalOf(request), request.params.name),
  );
}

/** The delivery log and redelivery. */
function deliveryRoutes(app: TypedApp, webhooks: WebhookService): void {
  app.get(
    '/v1/webhooks/:name/deliveries',
    {
      config: { action: 'webhooks:read' },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'The delivery log of a subscription, newest first',
        tags,
        params: NameParams,
        querystring: WebhookDeliveriesQuery,
        response: { 200: WebhookDeliveryList },
      },
    },
    async (request) => ({
      items: await webhooks.deliveries(principalOf(request), request.params.name, request.query.limit ?? 100),
    }),
  );

  app.post(
    '/v1/webhooks/deliveries/:id/redeliver',
    {
      config: { action: 'webhooks:write' },
      schema: {
        operationId: 'redeliverWebhook',
        summary: "Send a delivery's event again, as a new delivery",
        tags,
        params: WebhookDeliveryParams,
        response: { 202: WebhookDelivery },
      },
    },
    async (request, reply) =>
      reply.status(202).send(await webhooks.redeliver(principalOf(request), request.params.id)),
  );
}
