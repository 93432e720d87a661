/** A subscription as stored: events and systems are JSON arrays; the secret is a master-key envelope. */
export interface WebhookRow {
  name: string;
  url: string;
  events: string;
  systems: string | null;
  due_soon_days: number;
  secret: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
  /** Failed attempts in a row; the circuit breaker opens at `breakerFailures`. */
  failures: number;
  /** While the breaker is open, no attempt starts before this time. */
  paused_until: number | null;
}

/** The outbox: one row per event, written with the fact it reports; `data` is its JSON body. */
export interface WebhookEventRow {
  id: string;
  type: string;
  system: string | null;
  webhook: string | null;
  data: string;
  created_at: number;
  dispatched_at: number | null;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveryRow {
  id: string;
  webhook: string;
  event_id: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: number | null;
  response_status: number | null;
  latency_ms: number | null;
  last_error: string | null;
  redelivery_of: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface WebhookNoticeRow {
  key: string;
  created_at: number;
}

export interface WebhookTables {
  webhooks: WebhookRow;
  webhook_events: WebhookEventRow;
  webhook_deliveries: WebhookDeliveryRow;
  webhook_notices: WebhookNoticeRow;
}
