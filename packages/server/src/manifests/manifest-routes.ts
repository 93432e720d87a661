import { Manifest, ManifestQuery, ManifestResult } from '@lethe/api';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

export function manifestRoutes(app: TypedApp, { manifests }: Services) {
  app.post(
    '/v1/manifest',
    {
      config: { action: 'manifest:apply' },
      schema: {
        operationId: 'applyManifest',
        summary: 'Apply a manifest',
        tags: ['manifest'],
        querystring: ManifestQuery,
        body: Manifest,
        response: { 200: ManifestResult },
      },
    },
    (request) => manifests.apply(principalOf(request), request.body, request.query),
  );
  app.get(
    '/v1/manifest',
    {
      config: { action: 'manifest:export' },
      schema: {
        operationId: 'exportManifest',
        summary: 'Export the configuration as a manifest',
        tags: ['manifest'],
        response: { 200: Manifest },
      },
    },
    (request) => manifests.export(principalOf(request)),
  );
}
