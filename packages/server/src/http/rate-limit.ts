import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { principalOf } from './authenticate.js';
import { eventsIn, isTelemetryRoute } from './telemetry-route.js';

/**
 * Requests per principal: a token bucket that holds `burst` requests and refills at
 * `requestsPerSecond`. The telemetry routes count events instead, in a second bucket per
 * principal (`eventsPerSecond`, `eventBurst`): one request may carry a batch of 10,000 events,
 * so a request limit would cap a publisher far below what ingest sustains.
 */
export interface RateLimitSettings {
  readonly requestsPerSecond: number;
  readonly burst: number;
  /** Events per second per principal on the telemetry routes (default 200,000). */
  readonly eventsPerSecond?: number;
  /** Events the telemetry bucket holds (default 400,000: two seconds at the default rate). */
  readonly eventBurst?: number;
  /** Most principals tracked at once; the least recently seen is dropped beyond it. */
  readonly maxPrincipals?: number;
  /** Milliseconds since an arbitrary origin; tests inject one instead of sleeping. */
  readonly clock?: () => number;
}

export const DEFAULT_RATE_LIMIT: RateLimitSettings = { requestsPerSecond: 50, burst: 200 };
export const DEFAULT_EVENTS_PER_SECOND = 200_000;
export const DEFAULT_EVENT_BURST = 400_000;
export const DEFAULT_MAX_PRINCIPALS = 10_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in clock milliseconds. */
  updatedAt: number;
}

export interface RateDecision {
  readonly allowed: boolean;
  /** Whole units left in the bucket after this one (0 when the bucket is in debt). */
  readonly remaining: number;
  /** Seconds until the refused cost is allowed again (0 when allowed). */
  readonly retryAfterSeconds: number;
}

/**
 * Token buckets keyed by principal. The map is kept in least-recently-used order (a key is moved
 * to the end on every use), so idle buckets sit at the front: a bucket idle long enough to have
 * refilled completely is indistinguishable from a new one and is dropped, and beyond
 * `maxPrincipals` the least recently used goes too. Memory stays bounded either way.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly rate: number;
  private readonly burst: number;
  private readonly maxPrincipals: number;
  private readonly clock: () => number;
  /** Milliseconds an idle bucket takes to refill from empty to full. */
  private readonly refillMs: number;

  constructor(settings: RateLimitSettings) {
    const { requestsPerSecond, burst } = settings;
    if (!(Number.isFinite(requestsPerSecond) && requestsPerSecond > 0)) {
      throw new RangeError(`requestsPerSecond must be a positive number, got ${requestsPerSecond}`);
    }
    if (!(Number.isSafeInteger(burst) && burst >= 1)) {
      throw new RangeError(`burst must be a positive integer, got ${burst}`);
    }
    const maxPrincipals = settings.maxPrincipals ?? DEFAULT_MAX_PRINCIPALS;
    if (!(Number.isSafeInteger(maxPrincipals) && maxPrincipals >= 1)) {
      throw new RangeError(`maxPrincipals must be a positive integer, got ${maxPrincipals}`);
    }
    this.rate = requestsPerSecond;
    this.burst = burst;
    this.maxPrincipals = maxPrincipals;
    this.clock = settings.clock ?? (() => performance.now());
    this.refillMs = (burst / requestsPerSecond) * 1000;
  }

  get limit(): number {
    return this.burst;
  }

  /** Buckets held right now (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes `cost` units (one request, or a batch's events) from `key`'s bucket, or says how long to
   * wait. A cost above the burst passes when the bucket is full and leaves it in debt, which the
   * refill repays before the next is allowed: the rate holds, and no batch is refused forever.
   */
  take(key: string, cost = 1): RateDecision {
    const now = this.clock();
    this.evictIdle(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedAt: now };
    const elapsedSeconds = Math.max(0, now - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsedSeconds * this.rate);
    bucket.updatedAt = now;
    // Move to the end: the map stays in least-recently-used order.
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxPrincipals) {
      const oldest = this.buckets.keys().next().value as string;
      this.buckets.delete(oldest);
    }
    const needed = Math.min(cost, this.burst);
    if (bucket.tokens >= needed) {
      bucket.tokens -= cost;
      return { allowed: true, remaining: Math.max(0, Math.floor(bucket.tokens)), retryAfterSeconds: 0 };
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((needed - bucket.tokens) / this.rate));
    return { allowed: false, remaining: 0, retryAfterSeconds };
  }

  private evictIdle(now: number): void {
    for (const [key, bucket] of this.buckets) {
      // A bucket in debt takes longer to refill; it stays until it is full again.
      if (now - bucket.updatedAt < this.refillMs * Math.max(1, 1 - bucket.tokens / this.burst)) break;
      this.buckets.delete(key);
    }
  }
}

/** The bucket of a principal: the same subject under another issuer or role is someone else. */
export function rateLimitKey(principal: Principal): string {
  return JSON.stringify([principal.issuer ?? 'lethe', principal.id, principal.role]);
}

/**
 * `onRequest` hook for `/v1`, registered after authentication (it needs the principal): answers
 * 429 `RATE_LIMITED` with `Retry-After`, and tells every answer its limit and what is left. The
 * telemetry routes are left to `eventRateLimit`.
 */
export function rateLimit(settings: RateLimitSettings) {
  const byRequest = limitBy(new RateLimiter(settings), (request) => rateLimitKey(principalOf(request)));
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!isTelemetryRoute(request)) await byRequest(request, reply);
  };
}

/**
 * `preValidation` hook for `/v1`: the telemetry routes' bucket, which counts the events of each
 * batch (the body is parsed by then, not yet validated: refused events count too).
 */
export function eventRateLimit(settings: RateLimitSettings) {
  const limiter = new RateLimiter({
    requestsPerSecond: settings.eventsPerSecond ?? DEFAULT_EVENTS_PER_SECOND,
    burst: settings.eventBurst ?? DEFAULT_EVENT_BURST,
    ...(settings.maxPrincipals === undefined ? {} : { maxPrincipals: settings.maxPrincipals }),
    ...(settings.clock === undefined ? {} : { clock: settings.clock }),
  });
  const byEvents = limitBy(
    limiter,
    (request) => rateLimitKey(principalOf(request)),
    'Too many events from this token; retry after the given time.',
    (request) => eventsIn(request.body),
  );
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (isTelemetryRoute(request)) await byEvents(request, reply);
  };
}

/**
 * The same limit for the public routes that take no token (the sign-in link's exchange), keyed by
 * the client's address: each address has its own bucket, apart from the principals'. The address
 * is the TCP peer's (Fastify's `request.ip`; Lethe does not trust `X-Forwarded-For`), so behind a
 * reverse proxy every client shares the proxy's bucket.
 */
export function rateLimitByAddress(settings: RateLimitSettings) {
  return limitBy(
    new RateLimiter(settings),
    (request) => JSON.stringify(['address', request.ip]),
    'Too many requests from this address; retry after the given time.',
  );
}

function limitBy(
  limiter: RateLimiter,
  keyOf: (request: FastifyRequest) => string,
  message?: string,
  costOf: (request: FastifyRequest) => number = () => 1,
) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const decision = limiter.take(keyOf(request), costOf(request));
    reply.header('RateLimit-Limit', String(limiter.limit));
    reply.header('RateLimit-Remaining', String(decision.remaining));
    if (!decision.allowed) {
      reply.header('Retry-After', String(decision.retryAfterSeconds));
      throw new AppError('RATE_LIMITED', message, { retryAfterSeconds: decision.retryAfterSeconds });
    }
  };
}

/**
 * Reads `LETHE_RATE_LIMIT` (`50/s`, `3000/min`, a bare number of requests per second, or `off`:
 * every limit off) and `LETHE_RATE_BURST` (a positive integer), and for the telemetry routes
 * `LETHE_EVENT_RATE_LIMIT` (events, e.g. `200000/s`) and `LETHE_EVENT_RATE_BURST`. Unset: the
 * defaults. A bad value throws an error that names the variable.
 */
export function rateLimitFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): RateLimitSettings | false {
  const rateText = env['LETHE_RATE_LIMIT']?.trim();
  if (rateText !== undefined && /^(off|false|none|disabled)$/i.test(rateText)) return false;
  return {
    requestsPerSecond: rateFromEnv(env, 'LETHE_RATE_LIMIT', 'requests', DEFAULT_RATE_LIMIT.requestsPerSecond),
    burst: burstFromEnv(env, 'LETHE_RATE_BURST', DEFAULT_RATE_LIMIT.burst),
    eventsPerSecond: rateFromEnv(env, 'LETHE_EVENT_RATE_LIMIT', 'events', DEFAULT_EVENTS_PER_SECOND),
    eventBurst: burstFromEnv(env, 'LETHE_EVENT_RATE_BURST', DEFAULT_EVENT_BURST),
  };
}

function rateFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
  unit: string,
  fallback: number,
): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const match = /^(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute))?$/i.exec(text);
  const amount = Number(match?.[1]);
  if (!match || !(amount > 0)) {
    const example = unit === 'events' ? '200000/s' : '50/s or 3000/min, or off';
    throw new RangeError(`${name} must be a rate of ${unit} such as ${example}; got ${JSON.stringify(text)}`);
  }
  return /^m/i.test(match[2] ?? 's') ? amount / 60 : amount;
}

function burstFromEnv(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number) {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const burst = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(burst) || burst < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return burst;
}
