import type { FeaturePlugin } from '../http/feature-plugin.js';
import { datamapRoutes } from './datamap-routes.js';
import { discoveryRoutes } from './discovery/discovery-routes.js';
import { graphRoutes } from './graph-routes.js';
import { organisationRoutes } from './organisation-routes.js';
import { reportRoutes } from './report-routes.js';
import { rightsClientRoutes } from './rights-client-routes.js';

/** The data map: teams, flows, rights clients, the organisation, taxonomy, discovery, graph, drift and the RoPA. */
export const datamapPlugin: FeaturePlugin = async (app, { services }) => {
  datamapRoutes(app, services);
  rightsClientRoutes(app, services);
  organisationRoutes(app, services);
  discoveryRoutes(app, services);
  graphRoutes(app, services);
  reportRoutes(app, services);
};
