import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../lib/app-error.js';
import { API_PATH_PREFIXES, coversPath, pathOf } from './api-paths.js';
import { sendNotFound } from './errors.js';

/** `send` would write its own `cache-control` over the one set here. */
const OUR_CACHE_CONTROL = { cacheControl: false } as const;

/**
 * The same address answers brotli, gzip or plain bytes by `Accept-Encoding`; a shared cache must
 * key on it (@fastify/static does not say so itself).
 */
const VARY = 'accept-encoding';

/** A file the dashboard build writes into `assets/`: `index-BOQ8Nfcl.js`, `favicon-0HohmDsf.svg`. */
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/**
 * `/favicon.ico`, `/assets/missing-0000.js`: a file name at the root or in the assets, where the
 * build puts its files and no client route is.
 */
const FILE_PATH = /^(\/assets)?\/[^/]*\.[^/]*$/;

/** Where `npm run build` puts the dashboard (`packages/dashboard/dist`); undefined when not installed. */
export function builtDashboardDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@lethe/dashboard/package.json');
    return join(dirname(manifest), 'dist');
  } catch {
    return undefined;
  }
}

/**
 * Serves the dashboard's single-page app: `/` and its hashed `/assets/*`, and `index.html` for any
 * other page a browser navigates to (`/policies/retention-default`), so that client routes survive
 * a reload. Returns the app's not-found handler, which does the latter. Without a build (`root`
 * missing or empty) the dashboard's routes answer `503 UNAVAILABLE` saying how to build it.
 */
export async function dashboardRoutes(
  app: FastifyInstance,
  root: string | undefined,
): Promise<(request: FastifyRequest, reply: FastifyReply) => FastifyReply> {
  const built = root !== undefined && existsSync(join(root, 'index.html'));
  // `serve: false`: only `reply.sendFile` (content types, ETags, no path traversal), no routes of its
  // own. `preCompressed`: the build writes `.br`/`.gz` beside each file; a browser that accepts one gets it.
  await app.register(fastifyStatic, {
    root: built ? root : process.cwd(),
    serve: false,
    preCompressed: true,
  });
  const requireBuilt = (): string => {
    if (!built) throw new AppError('UNAVAILABLE', 'The dashboard is not built; run `npm run build`.');
    return root;
  };
  // The shell is tiny and names the current asset hashes: always revalidate it.
  const sendIndex = (reply: FastifyReply) =>
    reply
      .header('cache-control', 'no-cache')
      .header('vary', VARY)
      .sendFile('index.html', requireBuilt(), OUR_CACHE_CONTROL);

  app.get('/', { schema: { hide: true } }, (_request, reply) => sendIndex(reply));
  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, (request, reply) => {
    const assets = join(requireBuilt(), 'assets');
    // The build writes plain hashed names, one directory deep. Anything else (`..`, a separator, a
    // NUL) is no asset: `send` would refuse it with its own error, which is not ours to answer with.
    if (!ASSET_NAME.test(request.params['*'])) return sendNotFound(request, reply);
    // File names carry a content hash: a name never changes meaning, so browsers may keep it.
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', VARY)
      .sendFile(request.params['*'], assets, OUR_CACHE_CONTROL);
  });

  return (request, reply) =>
    built && isPageNavigation(request) ? sendIndex(reply) : sendNotFound(request, reply);
}

/**
 * A browser asking for a page: a GET for HTML, outside the API's paths, and not a file (a missing
 * `/favicon.ico` or asset stays a 404). Only where files live is a dot taken for a file name: a
 * client route's parameter may hold a dot, `@` and more (`/subjects/jane.doe@example.com`,
 * `/policies/retention.v2`), and such a page must survive a reload.
 */
function isPageNavigation(request: FastifyRequest): boolean {
  if (request.method !== 'GET') return false;
  if (!request.headers.accept?.includes('text/html')) return false;
  const path = pathOf(request.url);
  if (API_PATH_PREFIXES.some((prefix) => coversPath(prefix, path))) return false;
  return !FILE_PATH.test(path);
}
