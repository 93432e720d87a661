import type { FastifyServerOptions } from 'fastify';
import { buildApp } from './api/app.js';
import type { TypedApp } from './api/typed-app.js';
import { SigningKeys } from './auth/signing-keys.js';
import { DEFAULT_TOKEN_SETTINGS, type TokenSettings } from './auth/token-rules.js';
import { Tokens } from './auth/tokens.js';
import { createServices, type Services } from './services/services.js';
import { openStore, type StoreLocation } from './store/open-store.js';

export interface LetheOptions extends StoreLocation {
  readonly tokenSettings?: TokenSettings;
  readonly logger?: FastifyServerOptions['logger'];
}

export interface Lethe {
  readonly app: TypedApp;
  readonly services: Services;
  readonly tokens: Tokens;
  close(): Promise<void>;
}

/** Opens the store (running migrations), wires services and the HTTP app; does not listen. */
export async function createLethe(options: LetheOptions): Promise<Lethe> {
  const store = await openStore(options);
  try {
    const services = createServices(store);
    const tokens = new Tokens(
      new SigningKeys(store.repository),
      options.tokenSettings ?? DEFAULT_TOKEN_SETTINGS,
    );
    const app = await buildApp({ services, tokens, logger: options.logger });
    return {
      app,
      services,
      tokens,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
