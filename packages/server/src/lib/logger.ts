/**
 * The slice of a logger the services use (pino's signature), so that they log through the
 * server's one logger without importing pino. `createLethe` passes the Fastify app's logger.
 */
export interface Logger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Writes nothing: for services wired without a server (tests, tools). */
export const SILENT_LOGGER: Logger = {
  info() {},
  error() {},
};
