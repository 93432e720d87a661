import type { LookupAddress } from 'node:dns';
import { parseDuration, type Duration } from '../lib/duration.js';

/** Every address a host name resolves to (`dns.lookup` with `all`); tests give names of their own. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

/** How webhooks are delivered (docs/webhooks.md "Retries"); tests shorten the waits. */
export interface WebhookSettings {
  /** http to any host, not only loopback (LETHE_WEBHOOK_ALLOW_HTTP). */
  readonly allowHttp: boolean;
  /**
   * Networks (CIDR) receivers may be in although not public: loopback, private, link-local…
   * (LETHE_WEBHOOK_ALLOWED_NETWORKS). Empty: public addresses only.
   */
  readonly allowedNetworks: readonly string[];
  /** How a receiver's host name is resolved (default `dns.lookup`, every address). */
  readonly resolve?: ResolveHost;
  /** How long a receiver may take to answer one attempt. */
  readonly timeoutMs: number;
  /** Attempts in all, the first included; then the delivery is marked failed. */
  readonly maxAttempts: number;
  /** The wait before the first retry (between half of it and all of it); doubles per retry. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Failed attempts in a row after which a subscription pauses (its circuit breaker opens). */
  readonly breakerFailures: number;
  /** How long it pauses; then one attempt at a time probes the receiver. */
  readonly breakerPauseMs: number;
  /** How often the outbox is dispatched and due deliveries are sent. */
  readonly tickMs: number;
  /** How often overdue and due-soon requests and the day's due fields are looked for. */
  readonly noticeTickMs: number;
  /** How long delivered and failed deliveries and their events are kept (LETHE_WEBHOOK_LOG_RETENTION). */
  readonly logRetention: Duration;
  /** How often the log retention sweep runs. */
  readonly pruneTickMs: number;
}

export const DEFAULT_WEBHOOK_SETTINGS: WebhookSettings = {
  allowHttp: false,
  allowedNetworks: [],
  timeoutMs: 10_000,
  maxAttempts: 8,
  baseDelayMs: 60_000,
  maxDelayMs: 6 * 60 * 60_000,
  breakerFailures: 5,
  breakerPauseMs: 5 * 60_000,
  tickMs: 1_000,
  noticeTickMs: 60_000,
  logRetention: parseDuration('P30D') as Duration,
  pruneTickMs: 10 * 60_000,
};
