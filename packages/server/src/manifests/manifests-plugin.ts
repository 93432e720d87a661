import type { FeaturePlugin } from '../http/feature-plugin.js';
import { manifestRoutes } from './manifest-routes.js';

/** The manifest: the whole configuration exported, or applied, as one document. */
export const manifestsPlugin: FeaturePlugin = async (app, { services }) => {
  manifestRoutes(app, services);
};
