/** Discovery sources: Prometheus servers and scrape targets the data map is observed from. */
import { Type, type Static } from 'typebox';
import { Instant, Name } from './common.js';

const strict = { additionalProperties: false } as const;

/** Metric and label names of the discovery series, when they differ from the defaults. */
const DiscoveryNaming = {
  /** Prepended to the default metric names: `privacy_` reads `privacy_transmit`, … */
  prefix: Type.Optional(Type.String({ maxLength: 64 })),
  metrics: Type.Optional(
    Type.Object(
      {
        transmit: Type.Optional(Type.String()),
        store: Type.Optional(Type.String()),
        client: Type.Optional(Type.String()),
      },
      strict,
    ),
  ),
  labels: Type.Optional(
    Type.Object(
      {
        team: Type.Optional(Type.String()),
        service: Type.Optional(Type.String()),
        toService: Type.Optional(Type.String()),
        dataType: Type.Optional(Type.String()),
        address: Type.Optional(Type.String()),
        protocol: Type.Optional(Type.String()),
      },
      strict,
    ),
  ),
  /** `data_type` label value → category key, for values that are not taxonomy keys (`ip` → `user.device.ip_address`). */
  dataTypes: Type.Optional(Type.Record(Type.String(), Type.String())),
  /** How often to read the source (ISO 8601 duration, default PT1M). */
  interval: Type.Optional(Type.String()),
  /** How long an entry may go unseen before it is marked stale (default PT1H). */
  staleAfter: Type.Optional(Type.String()),
};
export const PrometheusSourceInput = Type.Object(
  { name: Type.Optional(Name), url: Type.String({ minLength: 1, maxLength: 2048 }), ...DiscoveryNaming },
  strict,
);
export type PrometheusSourceInput = Static<typeof PrometheusSourceInput>;
export const ScrapeSourceInput = Type.Object(
  {
    name: Type.Optional(Name),
    /** Full URLs of `/metrics` endpoints. */
    targets: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), { minItems: 1, maxItems: 1000 }),
    ...DiscoveryNaming,
  },
  strict,
);
export type ScrapeSourceInput = Static<typeof ScrapeSourceInput>;
export const DiscoverySource = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('prometheus'), Type.Literal('scrape')]),
  url: Type.Optional(Type.String()),
  targets: Type.Optional(Type.Array(Type.String())),
  ...DiscoveryNaming,
  interval: Type.String(),
  staleAfter: Type.String(),
  createdAt: Instant,
  updatedAt: Instant,
  lastRunAt: Type.Optional(Instant),
  lastSuccessAt: Type.Optional(Instant),
  lastError: Type.Optional(Type.String()),
});
export type DiscoverySource = Static<typeof DiscoverySource>;
export const DiscoveryRun = Type.Object({
  source: Type.String(),
  at: Instant,
  /** Series seen in this run, and how many of them were new. */
  seen: Type.Integer(),
  added: Type.Integer(),
  /** Scrape targets that failed (the others still count). */
  failures: Type.Array(Type.Object({ target: Type.String(), message: Type.String() })),
});
export type DiscoveryRun = Static<typeof DiscoveryRun>;
