import type { FeaturePlugin } from '../http/feature-plugin.js';
import { jobRoutes } from './job-routes.js';

/** Background jobs: progress of work taken off the request path (a retention recompute). */
export const jobsPlugin: FeaturePlugin = async (app, { services }) => {
  jobRoutes(app, services);
};
