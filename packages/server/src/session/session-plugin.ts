import type { FeaturePlugin } from '../http/feature-plugin.js';
import { keyRoutes } from './key-routes.js';
import { sessionRoutes } from './session-routes.js';

/**
 * The caller's session and the rotation of Lethe's signing key, behind a token. The routes that
 * take none are `sessionPublicPlugin`.
 */
export const sessionPlugin: FeaturePlugin = async (app, { services }) => {
  keyRoutes(app, services);
  sessionRoutes(app);
};
