/** Webhooks (docs/webhooks.md): subscriptions, the events they receive, and the delivery log. */
import { Type, type Static } from 'typebox';
import { Instant, Literals, Name, QueryInteger } from './common.js';

const strict = { additionalProperties: false } as const;

/** The events Lethe pushes; docs/webhooks.md describes each body. */
export const WEBHOOK_EVENT_TYPES = [
  'expiries.due',
  'request.due_soon',
  'request.overdue',
  'request.completed',
  'request.failed',
  'reappearance.detected',
  'consent.violation',
  'datamap.drift',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WebhookEventTypeSchema = Literals(WEBHOOK_EVENT_TYPES, {
  description: 'an event type of docs/webhooks.md',
});

/** A receiver's address: https, or http to loopback (or anywhere when the server allows it). */
const WebhookUrl = Type.String({
  minLength: 1,
  maxLength: 2_000,
  description: 'https URL; http only to loopback unless LETHE_WEBHOOK_ALLOW_HTTP is true',
});
const Events = Type.Array(WebhookEventTypeSchema, { minItems: 1, maxItems: WEBHOOK_EVENT_TYPES.length });
const Systems = Type.Array(Name, {
  minItems: 1,
  maxItems: 1_000,
  description: 'only events of these systems (events that concern one system); absent: all',
});
const DueSoonDays = Type.Integer({
  minimum: 1,
  maximum: 90,
  description: '`request.due_soon` fires this many days before the deadline (default 7)',
});

export const WebhookInput = Type.Object(
  {
    name: Name,
    url: WebhookUrl,
    events: Events,
    systems: Type.Optional(Systems),
    dueSoonDays: Type.Optional(DueSoonDays),
  },
  strict,
);
export type WebhookInput = Static<typeof WebhookInput>;

/** A change to a subscription: the fields given replace the stored ones; `systems: null` removes the filter. */
export const WebhookPatch = Type.Object(
  {
    url: Type.Optional(WebhookUrl),
    events: Type.Optional(Events),
    systems: Type.Optional(Type.Union([Systems, Type.Null()])),
    dueSoonDays: Type.Optional(DueSoonDays),
  },
  strict,
);
export type WebhookPatch = Static<typeof WebhookPatch>;

export const Webhook = Type.Object({
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  systems: Type.Optional(Type.Array(Type.String())),
  dueSoonDays: Type.Integer(),
  createdAt: Instant,
  createdBy: Type.String(),
  updatedAt: Instant,
  updatedBy: Type.String(),
  /** Failed attempts in a row (absent: none since the last delivered one). */
  consecutiveFailures: Type.Optional(Type.Integer()),
  /**
   * Set while the circuit breaker is open: no attempt starts before this instant, then one at a
   * time probes the receiver; cleared by a delivered attempt or a new URL.
   */
  pausedUntil: Type.Optional(Instant),
  /** Only in the answer that creates the subscription or rotates its secret: shown once. */
  secret: Type.Optional(
    Type.String({ description: 'whsec_ and the base64 key (Standard Webhooks); shown once' }),
  ),
});
export type Webhook = Static<typeof Webhook>;

export const WebhookList = Type.Object({ items: Type.Array(Webhook) });
export type WebhookList = Static<typeof WebhookList>;

export const WebhookDeliveryStatus = Type.Union([
  Type.Literal('pending'),
  Type.Literal('delivered'),
  Type.Literal('failed'),
]);

export const WebhookDelivery = Type.Object({
  id: Type.String(),
  webhook: Type.String(),
  eventId: Type.String(),
  type: Type.String(),
  status: WebhookDeliveryStatus,
  attempts: Type.Integer(),
  /** The receiver's HTTP status of the last attempt (absent: no answer). */
  responseStatus: Type.Optional(Type.Integer()),
  latencyMs: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  nextAttemptAt: Type.Optional(Instant),
  /** A pending delivery whose subscription is paused (circuit breaker): it waits until then at least. */
  pausedUntil: Type.Optional(Instant),
  createdAt: Instant,
  deliveredAt: Type.Optional(Instant),
  /** The delivery this one repeats (`POST …/redeliver`). */
  redeliveryOf: Type.Optional(Type.String()),
});
export type WebhookDelivery = Static<typeof WebhookDelivery>;

export const WebhookDeliveryList = Type.Object({ items: Type.Array(WebhookDelivery) });
export type WebhookDeliveryList = Static<typeof WebhookDeliveryList>;

export const WebhookDeliveriesQuery = Type.Object(
  { limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500, default: 100 })) },
  strict,
);

/** A delivery id as paths carry it (`whd_` and 32 hex digits). */
export const WebhookDeliveryParams = Type.Object(
  { id: Type.String({ pattern: '^whd_[0-9a-f]{32}$', description: 'whd_ and 32 hex digits' }) },
  strict,
);

/** What a receiver gets: the body of every delivery. */
export interface WebhookMessage {
  readonly id: string;
  readonly type: WebhookEventType;
  readonly createdAt: string;
  readonly data: Record<string, unknown>;
}
