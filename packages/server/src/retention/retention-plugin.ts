import type { FeatureOptions, FeaturePlugin } from '../http/feature-plugin.js';
import type { Metrics } from '../http/metrics.js';
import { eventRoutes } from './event-routes.js';
import { expireNowRoutes } from './expire-now/expire-now-routes.js';
import { subjectEventRoutes } from './aging/subject-event-routes.js';
import { holdRoutes } from './holds/hold-routes.js';
import { policyRoutes } from './policy-routes.js';
import { retentionRoutes } from './retention-routes.js';
import { systemRoutes } from './system-routes.js';
import { otlpRoutes } from './transports/otlp-routes.js';

export interface RetentionPluginOptions extends FeatureOptions {
  /** Counts the usage events accepted, duplicated and rejected. */
  readonly metrics: Metrics;
  /** Largest accepted body of `POST /v1/events`, in bytes. */
  readonly eventsBodyLimit: number;
}

/** Policies, systems, usage telemetry and the retention it drives: expiries, holds, erasures, reappearances. */
export const retentionPlugin: FeaturePlugin<RetentionPluginOptions> = async (
  app,
  { services, metrics, eventsBodyLimit },
) => {
  policyRoutes(app, services);
  systemRoutes(app, services);
  eventRoutes(app, services, metrics, eventsBodyLimit);
  otlpRoutes(app, services, metrics, eventsBodyLimit);
  retentionRoutes(app, services);
  holdRoutes(app, services);
  expireNowRoutes(app, services);
  subjectEventRoutes(app, services);
};
