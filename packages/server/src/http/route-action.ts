import type { FastifyRequest, RouteOptions } from 'fastify';
import { authorizeAction, isAction, type Action } from '../auth/permissions.js';
import { principalOf } from './authenticate.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission a `/v1` route needs (`auth/permissions.ts`). */
    action?: Action;
  }
  interface FastifyInstance {
    /** Every route with the permission it needs (none: public); for the access tests and docs. */
    routeTable: readonly RouteEntry[];
  }
}

export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly action?: Action;
}

/** Collects the routes as they are registered, HEAD twins of GET routes left out. */
export function routeCollector(): { routes: RouteEntry[]; onRoute: (route: RouteOptions) => void } {
  const routes: RouteEntry[] = [];
  const onRoute = (route: RouteOptions) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      const action = route.config?.action;
      routes.push({ method, url: route.url, ...(isAction(action) ? { action } : {}) });
    }
  };
  return { routes, onRoute };
}

/** Registration fails for a `/v1` route that names no action: nothing is reachable by omission. */
export function requireRouteAction(route: RouteOptions): void {
  if (!isAction(route.config?.action)) {
    throw new Error(`route ${String(route.method)} ${route.url} names no permission (config.action)`);
  }
}

/**
 * Refuses a request whose role lacks the route's action, or whose category limits rule the action
 * out, before its body is even parsed. The services check again: this is the early, cheap
 * refusal, not the only one.
 */
export async function authorizeRoute(request: FastifyRequest): Promise<void> {
  const action = request.routeOptions.config.action;
  if (!isAction(action)) throw new Error(`route ${request.routeOptions.url} names no permission`);
  authorizeAction(principalOf(request), action);
}

/** The routes and the permission each needs, as Markdown for docs/security.md (a test keeps them equal). */
export function renderRouteTable(routes: readonly RouteEntry[]): string {
  const rows = [...routes]
    .sort((a, b) => a.url.localeCompare(b.url) || a.method.localeCompare(b.method))
    .map((route) => `| \`${route.method} ${route.url}\` | ${route.action ?? 'public'} |`);
  return ['| route | permission |', '| --- | --- |', ...rows].join('\n');
}
