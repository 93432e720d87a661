import type { FeatureOptions, FeaturePlugin } from '../http/feature-plugin.js';
import { contractRoutes } from './contract-routes.js';
import { streamExportRoutes } from './exports/stream-export-routes.js';
import { streamKeyRoutes } from './stream-key-routes.js';
import { streamRoutes } from './stream-routes.js';

export interface StreamsPluginOptions extends FeatureOptions {
  /** Largest accepted body of `POST /v1/streams/events`, in bytes (the same as `POST /v1/events`). */
  readonly eventsBodyLimit: number;
}

/** Privacy streams: data contracts, the encrypted event log, its per-subject keys and its exports. */
export const streamsPlugin: FeaturePlugin<StreamsPluginOptions> = async (
  app,
  { services, eventsBodyLimit },
) => {
  contractRoutes(app, services);
  streamRoutes(app, services, eventsBodyLimit);
  streamKeyRoutes(app, services);
  streamExportRoutes(app, services);
};
