import type { FeaturePlugin } from '../http/feature-plugin.js';
import { auditRoutes } from './audit-routes.js';

/** The audit trail, its verification and its signed checkpoints. */
export const auditPlugin: FeaturePlugin = async (app, { services }) => {
  auditRoutes(app, services);
};
