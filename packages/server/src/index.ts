export { buildApp } from './http/app.js';
export { MasterKey, MasterKeyError } from './auth/master-key.js';
export { LETHE_ITSELF, type Principal, type Role } from './auth/principal.js';
export { Tokens } from './auth/tokens.js';
export { addDuration, parseDuration, type Duration } from './lib/duration.js';
export { createLethe, type Lethe, type LetheOptions } from './server.js';
export { openStore } from './store/open-store.js';
export type { Store } from './store/store.js';
