import type { FeaturePlugin } from '../http/feature-plugin.js';
import { connectorRoutes } from './connector-routes.js';
import { requestRoutes } from './request-routes.js';

/** Rights requests and the SQL connectors that carry them out. */
export const requestsPlugin: FeaturePlugin = async (app, { services }) => {
  requestRoutes(app, services);
  connectorRoutes(app, services);
};
