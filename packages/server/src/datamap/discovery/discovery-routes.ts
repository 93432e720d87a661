import {
  DiscoveryRun,
  DiscoverySource,
  ListOf,
  NameParams,
  PrometheusSourceInput,
  ScrapeSourceInput,
} from '@lethe/api';
import type { Services } from '../../services.js';
import { principalOf } from '../../http/authenticate.js';
import type { TypedApp } from '../../http/typed-app.js';

/** A source named after its address when the caller gives no name: `prometheus-127.0.0.1-9090`. */
function defaultName(kind: string, url: string): string {
  let host = 'source';
  try {
    host = new URL(url).host;
  } catch {
    // The service refuses the URL with a clear error.
  }
  return `${kind}-${host}`.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 128);
}

export function discoveryRoutes(app: TypedApp, { discovery }: Services) {
  const tags = ['data map'];
  const created = { 200: DiscoverySource, 201: DiscoverySource };

  app.get(
    '/v1/datamap/sources',
    {
      config: { action: 'systems:read' },
      schema: {
        operationId: 'listDiscoverySources',
        summary: 'List discovery sources',
        tags,
        response: { 200: ListOf(DiscoverySource) },
      },
    },
    async (request) => ({ items: await discovery.list(principalOf(request)) }),
  );
  app.post(
    '/v1/datamap/sources/prometheus',
    {
      config: { action: 'discovery:write' },
      schema: {
        operationId: 'addPrometheusSource',
        summary: 'Add a Prometheus discovery source',
        tags,
        body: PrometheusSourceInput,
        response: created,
      },
    },
    async (request, reply) => {
      const { name, ...rest } = request.body;
      const result = await discovery.put(principalOf(request), {
        kind: 'prometheus',
        name: name ?? defaultName('prometheus', rest.url),
        ...rest,
      });
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.post(
    '/v1/datamap/sources/scrape',
    {
      config: { action: 'discovery:write' },
      schema: {
        operationId: 'addScrapeSource',
        summary: 'Add a scraped-endpoint discovery source',
        tags,
        body: ScrapeSourceInput,
        response: created,
      },
    },
    async (request, reply) => {
      const { name, ...rest } = request.body;
      const result = await discovery.put(principalOf(request), {
        kind: 'scrape',
        name: name ?? defaultName('scrape', rest.targets[0] ?? ''),
        ...rest,
      });
      return reply.status(result.created ? 201 : 200).send(result.value);
    },
  );
  app.delete(
    '/v1/datamap/sources/:name',
    {
      config: { action: 'discovery:write' },
      schema: {
        operationId: 'deleteDiscoverySource',
        summary: 'Remove a discovery source',
        tags,
        params: NameParams,
      },
    },
    async (request, reply) => {
      await discovery.remove(principalOf(request), request.params.name);
      return reply.status(204).send();
    },
  );
  app.post(
    '/v1/datamap/sources/:name/discover',
    {
      config: { action: 'discovery:run' },
      schema: {
        operationId: 'discover',
        summary: 'Run discovery from a source now',
        tags,
        params: NameParams,
        response: { 200: DiscoveryRun },
      },
    },
    (request) => discovery.run(principalOf(request), request.params.name),
  );
}
