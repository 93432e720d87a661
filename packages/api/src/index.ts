export * from './errors.js';
export * from './schemas.js';
export * from './ropa.js';
export * from './manifest.js';
export * from './requests.js';
export * from './streams.js';
export * from './overview.js';
export * from './session.js';
