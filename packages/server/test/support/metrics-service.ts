import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry, type RegistryContentType } from 'prom-client';
import {
  declareDataMapMetrics,
  type DataMapDeclaration,
  type DataMapMetrics,
  type DataMapMetricsOptions,
} from '@lethe/client/prometheus';

/** A stand-in for a team's service: its data map declared with the SDK, exposed at `/metrics`. */
export interface MetricsService {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/metrics`, what direct mode scrapes. */
  readonly metricsUrl: string;
  /** `127.0.0.1:<port>`, what a Prometheus static config lists. */
  readonly hostPort: string;
  readonly metrics: DataMapMetrics;
  readonly registry: Registry<RegistryContentType>;
  stop(): Promise<void>;
}

export interface MetricsServiceOptions extends DataMapMetricsOptions {
  /** The exposition format served. Default the Prometheus text format 0.0.4. */
  readonly format?: 'prometheus' | 'openmetrics';
}

export async function startMetricsService(
  declaration: DataMapDeclaration,
  options: MetricsServiceOptions = {},
): Promise<MetricsService> {
  const registry: Registry<RegistryContentType> = new Registry<RegistryContentType>();
  if (options.format === 'openmetrics') registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const metrics = declareDataMapMetrics(registry, declaration, options);
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?', 1)[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(error)}\n`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    metricsUrl: `${url}/metrics`,
    hostPort: `127.0.0.1:${port}`,
    metrics,
    registry,
    async stop() {
      // Prometheus keeps its scrape connections open.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
