import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { inPage, screenshot } from './support/browser.js';
import {
  errors,
  mint,
  openDemoDashboard,
  page,
  server,
  signInWithPastedToken,
} from './support/demo-dashboard.js';

/** The data map: teams, systems and flows, filters, and drift against what a team's metrics show. */

openDemoDashboard();

describe('data map', { timeout: 60_000 }, () => {
  /** A team's /metrics on loopback: what runs, as the seed's series describe it. */
  let metrics: Server;
  beforeAll(async () => {
    metrics = createServer((_request, response) => {
      response.setHeader('content-type', 'text/plain; version=0.0.4');
      // risk → mailer is declared nowhere: drift. accounts → mailer is declared and seen.
      response.end(
        [
          'transmit{team="trust",service="risk",to_service="mailer",data_type="user.device.ip_address"} 1',
          'transmit{team="identity",service="accounts",to_service="mailer",data_type="user.contact.email"} 1',
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => metrics.close(() => resolve())));

  it('draws teams, systems and flows, filters them, shows what a node and an edge carry, and highlights drift', async () => {
    const admin = await mint('admin');
    const target = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
    const source = await api(server.url, admin, 'POST', '/v1/datamap/sources/scrape', {
      name: 'team-metrics',
      targets: [target],
    });
    expect(source.status).toBeLessThan(300);
    const run = await api(server.url, admin, 'POST', '/v1/datamap/sources/team-metrics/discover');
    expect(run.status).toBe(200);

    await signInWithPastedToken(await mint('dpo'));
    await page.getByRole('link', { name: 'Data map' }).click();
    await page.getByRole('heading', { level: 1, name: 'Data map' }).waitFor();
    const graph = page.locator('.graph canvas').first();
    await graph.waitFor();
    const elements = page.getByRole('navigation', { name: 'Map elements' });
    await elements.getByRole('button', { name: 'orders (system)' }).waitFor();
    expect(await elements.getByRole('button', { name: 'warehouse (system)' }).count()).toBe(1);
    await screenshot(page, '15-datamap');

    // A node: what the orders system stores, sends and receives.
    await elements.getByRole('button', { name: 'orders (system)' }).click();
    const details = page.getByTestId('details');
    expect(await details.textContent()).toMatch(
      /Sends.*payments \(user\.contact\.address, user\.financial\)/,
    );
    // An edge: the undeclared flow, highlighted as drift.
    await elements.getByRole('button', { name: 'risk → mailer' }).click();
    expect(await details.textContent()).toContain('drift: observed, never declared');
    expect(await details.textContent()).toContain('team-metrics');
    expect(await page.getByTestId('drift-list').textContent()).toContain('Undeclared flow risk → mailer');
    await screenshot(page, '16-datamap-drift');

    // Filtering by team keeps that team's systems and what they touch, and drops the rest.
    await page.getByLabel('Team').selectOption('growth');
    await elements.getByRole('button', { name: 'mailer (system)' }).waitFor();
    await expect.poll(() => elements.getByRole('button', { name: 'warehouse (system)' }).count()).toBe(0);
    const filtered = (await api(server.url, admin, 'GET', '/v1/datamap/graph?team=growth')).body as {
      nodes: { kind: string; label: string }[];
    };
    const shownSystems = await elements.getByRole('button', { name: /\(system\)/ }).allTextContents();
    expect(shownSystems.map((text) => text.replace(/ \(system\)$/, '')).sort()).toEqual(
      filtered.nodes
        .filter((node) => node.kind === 'system')
        .map((node) => node.label)
        .sort(),
    );
    await page.getByLabel('Data category').selectOption('user.contact.email');
    await page.getByLabel('Team').selectOption('');
    await elements.getByRole('button', { name: 'accounts (system)' }).waitFor();
    await screenshot(page, '17-datamap-filtered');
    expect(errors).toEqual([]);
  });

  /** What Cytoscape drew: every flow's polyline (model coordinates) and every system's box. */
  interface DrawnMap {
    edges: {
      id: string;
      source: string;
      target: string;
      points: { x: number; y: number }[];
      route: { x: number; y: number }[];
    }[];
    systems: { id: string; x1: number; y1: number; x2: number; y2: number }[];
  }
  const DRAWN_MAP = `(() => {
    const cy = window.__lethe_cy;
    const edges = cy.edges().map((edge) => ({
      id: edge.id(),
      source: edge.source().id(),
      target: edge.target().id(),
      points: [edge.sourceEndpoint(), ...(edge.segmentPoints() ?? []), edge.targetEndpoint()].map((p) => ({ x: p.x, y: p.y })),
      route: edge.data('route'),
    }));
    const systems = cy.nodes('[kind = "system"]').map((node) => {
      const box = node.boundingBox({ includeLabels: true, includeOverlays: false });
      return { id: node.id(), x1: box.x1, y1: box.y1, x2: box.x2, y2: box.y2 };
    });
    return { edges, systems };
  })()`;

  /** Whether the segment a→b passes through the inside of the box (Liang–Barsky clipping). */
  function crosses(
    a: { x: number; y: number },
    b: { x: number; y: number },
    box: { x1: number; y1: number; x2: number; y2: number },
  ): boolean {
    // The box shrunk by a pixel: touching the border where an edge ends at a neighbour is not crossing.
    const [x1, y1, x2, y2] = [box.x1 + 1, box.y1 + 1, box.x2 - 1, box.y2 - 1];
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    let low = 0;
    let high = 1;
    for (const [p, q] of [
      [-dx, a.x - x1],
      [dx, x2 - a.x],
      [-dy, a.y - y1],
      [dy, y2 - a.y],
    ] as const) {
      if (p === 0) {
        if (q < 0) return false;
        continue;
      }
      const t = q / p;
      if (p < 0) low = Math.max(low, t);
      else high = Math.min(high, t);
      if (low > high) return false;
    }
    return true;
  }

  it(
    'lays flows out around the systems, opens the flow under the pointer, keeps filters in the address and finds a system',
    { timeout: 240_000 },
    async () => {
      const dpo = await mint('dpo');
      // The layout runs in ELK's worker, off the page's main thread (a big map would freeze it).
      const workers: string[] = [];
      const onWorker = (worker: { url(): string }) => workers.push(worker.url());
      page.on('worker', onWorker);
      await signInWithPastedToken(dpo);
      await page.getByRole('link', { name: 'Data map' }).click();
      await page.locator('[data-testid="graph"][data-ready="true"]').waitFor();
      page.off('worker', onWorker);
      expect(workers.filter((url) => /\/assets\/elk-worker\.min-[\w-]+\.js$/.test(url))).toHaveLength(1);

      // Geometry: every flow of the demo map is drawn, along ELK's route, through no system it does not join.
      const whole = (await api(server.url, dpo, 'GET', '/v1/datamap/graph')).body as {
        nodes: { id: string; kind: string; label: string; team?: string }[];
        edges: { kind: string; from: string; to: string; categories: string[] }[];
      };
      const transmits = whole.edges.filter((edge) => edge.kind === 'transmit');
      const drawn = await inPage<DrawnMap>(page, DRAWN_MAP);
      expect(drawn.edges.map((edge) => edge.id).sort()).toEqual(
        transmits.map((edge) => `transmit:${edge.from}->${edge.to}`).sort(),
      );
      expect(drawn.systems.length).toBe(whole.nodes.filter((node) => node.kind === 'system').length);
      const crossings: string[] = [];
      for (const edge of drawn.edges) {
        expect(edge.points.length).toBe(edge.route.length);
        edge.points.forEach((point, index) => {
          const planned = edge.route[index] as { x: number; y: number };
          expect(
            Math.hypot(point.x - planned.x, point.y - planned.y),
            `${edge.id} point ${index}`,
          ).toBeLessThan(1);
        });
        for (let index = 1; index < edge.points.length; index++) {
          const [a, b] = [edge.points[index - 1], edge.points[index]] as [
            { x: number; y: number },
            { x: number; y: number },
          ];
          for (const system of drawn.systems) {
            if (system.id === edge.source || system.id === edge.target) continue;
            if (crosses(a, b, system)) crossings.push(`${edge.id} segment ${index} crosses ${system.id}`);
          }
        }
      }
      expect(crossings).toEqual([]);
      await screenshot(page, '18-datamap-layered');

      // Hit-testing: a click at the middle of each drawn flow opens that flow's panel, ends named with their teams.
      const teamOf = new Map(whole.nodes.map((node) => [node.id, node.team]));
      const labelOf = new Map(whole.nodes.map((node) => [node.id, node.label]));
      const details = page.getByTestId('details');
      for (const edge of drawn.edges) {
        const lengths = edge.points.slice(1).map((point, index) => {
          const before = edge.points[index] as { x: number; y: number };
          return Math.hypot(point.x - before.x, point.y - before.y);
        });
        let rest = lengths.reduce((sum, length) => sum + length, 0) / 2;
        let middle = edge.points[0] as { x: number; y: number };
        for (let index = 0; index < lengths.length; index++) {
          const length = lengths[index] as number;
          const [a, b] = [edge.points[index], edge.points[index + 1]] as [
            { x: number; y: number },
            { x: number; y: number },
          ];
          if (rest <= length) {
            middle = { x: a.x + ((b.x - a.x) * rest) / length, y: a.y + ((b.y - a.y) * rest) / length };
            break;
          }
          rest -= length;
        }
        const onPage = await inPage<{ x: number; y: number }>(
          page,
          `(() => {
          const cy = window.__lethe_cy;
          const box = cy.container().getBoundingClientRect();
          const zoom = cy.zoom();
          const pan = cy.pan();
          return { x: box.left + ${middle.x} * zoom + pan.x, y: box.top + ${middle.y} * zoom + pan.y };
        })()`,
        );
        await page.mouse.click(onPage.x, onPage.y);
        const end = (id: string) => `${labelOf.get(id)} (${teamOf.get(id)})`;
        const [from, to] = edge.id.replace(/^transmit:/, '').split('->') as [string, string];
        await expect.poll(() => details.getByRole('heading').textContent()).toBe(`${end(from)} → ${end(to)}`);
        const flow = transmits.find((candidate) => `transmit:${candidate.from}->${candidate.to}` === edge.id);
        for (const key of flow?.categories ?? []) expect(await details.textContent()).toContain(key);
      }
      await screenshot(page, '19-datamap-edge-selected');

      // Zoom in, out and fit.
      const zoom = () => inPage<number>(page, 'window.__lethe_cy.zoom()');
      const fitted = await zoom();
      await page.getByRole('button', { name: 'Zoom in' }).click();
      expect(await zoom()).toBeGreaterThan(fitted);
      await page.getByRole('button', { name: 'Fit' }).click();
      expect(await zoom()).toBeCloseTo(fitted, 5);

      // Search: a part of a name finds the system, centres it and opens it.
      await page.getByRole('combobox', { name: 'Find a system' }).fill('wareh');
      await page.getByRole('button', { name: 'Find', exact: true }).click();
      await expect.poll(() => details.getByRole('heading').textContent()).toBe('warehouse (system)');
      const centred = await inPage<{
        node: { x: number; y: number };
        width: number;
        height: number;
        found: boolean;
      }>(
        page,
        `(() => {
        const cy = window.__lethe_cy;
        const node = cy.getElementById('system:warehouse');
        return { node: node.renderedPosition(), width: cy.width(), height: cy.height(), found: node.hasClass('found') };
      })()`,
      );
      expect(centred.found).toBe(true);
      expect(Math.abs(centred.node.x - centred.width / 2)).toBeLessThan(2);
      expect(Math.abs(centred.node.y - centred.height / 2)).toBeLessThan(2);
      await page.getByRole('combobox', { name: 'Find a system' }).fill('no-such-system');
      await page.getByRole('button', { name: 'Find', exact: true }).click();
      await page.getByText('No system named like "no-such-system" in this view.').waitFor();

      // Filters live in the address: a reload (or a shared link) shows the same view.
      await page.getByLabel('Team').selectOption('commerce');
      await page.getByLabel('Data category').selectOption('user.financial');
      await expect.poll(() => new URL(page.url()).search).toBe('?team=commerce&category=user.financial');
      await page.reload();
      await page.locator('[data-testid="graph"][data-ready="true"]').waitFor();
      expect(await page.getByLabel('Team').inputValue()).toBe('commerce');
      expect(await page.getByLabel('Data category').inputValue()).toBe('user.financial');
      const filtered = (
        await api(server.url, dpo, 'GET', '/v1/datamap/graph?team=commerce&category=user.financial')
      ).body as { nodes: { kind: string; label: string }[] };
      const elements = page.getByRole('navigation', { name: 'Map elements' });
      const shownSystems = await elements.getByRole('button', { name: /\(system\)/ }).allTextContents();
      expect(shownSystems.map((text) => text.replace(/ \(system\)$/, '')).sort()).toEqual(
        filtered.nodes
          .filter((node) => node.kind === 'system')
          .map((node) => node.label)
          .sort(),
      );
      expect(shownSystems.length).toBeGreaterThan(0);
      await screenshot(page, '20-datamap-filtered-reloaded');
      expect(errors).toEqual([]);
    },
  );
});
