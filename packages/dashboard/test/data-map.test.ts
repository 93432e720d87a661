import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../server/test/support/lethe-process.js';
import { screenshot } from './support/browser.js';
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
});
