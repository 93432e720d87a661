import type { FeaturePlugin } from '../http/feature-plugin.js';
import { overviewRoutes } from './overview-routes.js';

/** The dashboard's overview: the figures of every feature in one answer. */
export const overviewPlugin: FeaturePlugin = async (app, { services }) => {
  overviewRoutes(app, services);
};
