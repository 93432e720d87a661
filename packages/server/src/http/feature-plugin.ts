import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, RawServerDefault } from 'fastify';
import type { Services } from '../services.js';

/**
 * A feature's routes as one Fastify plugin. `http/app.ts` decides the scope it is registered in,
 * and so the hooks (authentication, rate limit, permission check) its routes run behind.
 */
export type FeaturePlugin<Options extends FeatureOptions = FeatureOptions> = FastifyPluginAsync<
  Options,
  RawServerDefault,
  TypeBoxTypeProvider
>;

export interface FeatureOptions {
  readonly services: Services;
}
