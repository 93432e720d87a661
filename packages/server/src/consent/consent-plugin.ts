import type { FeaturePlugin } from '../http/feature-plugin.js';
import { consentRoutes } from './consent-routes.js';

/** Consent per subject and purpose, its bulk import and the uses it did not cover. */
export const consentPlugin: FeaturePlugin = async (app, { services }) => {
  consentRoutes(app, services);
};
