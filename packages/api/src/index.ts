/**
 * Request and response schemas of API v1, written once: the server validates with them and
 * publishes them as OpenAPI, the SDK takes its types from them. One file per feature.
 */
export * from './errors.js';
export * from './backoff.js';
export * from './common.js';
export * from './choices.js';
export * from './jobs.js';
export * from './retention.js';
export * from './datamap.js';
export * from './discovery.js';
export * from './datamap-graph.js';
export * from './audit.js';
export * from './keys.js';
export * from './line-rejection.js';
export * from './ropa.js';
export * from './manifest.js';
export * from './requests.js';
export * from './request-list-query.js';
export * from './streams.js';
export * from './consent.js';
export * from './stream-exports.js';
export * from './overview.js';
export * from './session.js';
export * from './holds.js';
export * from './expire-now.js';
export * from './webhooks.js';
