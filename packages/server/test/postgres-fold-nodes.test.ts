import type { UsageEvent } from '@lethe/api';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeyedStore } from '../src/auth/key-material.js';
import { LETHE_ITSELF } from '../src/auth/principal.js';
import { createServices, type Services } from '../src/services.js';
import type { Store } from '../src/store/store.js';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { loadFixtures } from './support/fixtures.js';

const available = await availableBackends();
const postgres = ALL_BACKENDS.find((backend) => backend.name === 'postgres');
const missing = !postgres || !available.includes(postgres);

const FIELDS = ['accounts.email', 'accounts.name', 'orders.address'];
const POLICY_OF: Record<string, string> = { accounts: 'user-account-access', orders: 'order-delivery' };

/** Deterministic events about 40 subjects, each with 1–3 fields of one system. */
function events(count: number): UsageEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const system = i % 3 === 0 ? 'orders' : 'accounts';
    const fields = system === 'orders' ? ['orders.address'] : FIELDS.slice(0, 1 + (i % 2));
    return {
      id: `n-${i}`,
      subject: `n-s${(i * 7) % 40}`,
      system,
      policy: POLICY_OF[system] as string,
      fields,
      at: new Date(Date.UTC(2024, 0, 1) + ((i * 37) % 500) * 86_400_000).toISOString(),
    };
  });
}

/**
 * Two API nodes on one PostgreSQL database, both folding the journal while both ingest: each
 * partition is folded by one node at a time, a row is folded exactly once, and the aggregates
 * come out exact.
 */
describe.skipIf(missing)('PostgreSQL fold on two nodes (skipped without PostgreSQL)', () => {
  let nodes: { store: Store; services: Services }[];
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    const location = await (postgres as NonNullable<typeof postgres>).create();
    nodes = [];
    for (let i = 0; i < 2; i += 1) {
      const { store, masterKey } = await openKeyedStore(location);
      nodes.push({ store, services: createServices(store, masterKey) });
    }
    await loadFixtures((nodes[0] as (typeof nodes)[number]).services);
    dispose = async () => {
      for (const node of nodes) await node.store.close();
      await location.dispose();
    };
  });
  afterAll(() => dispose());

  it('never folds a row twice and together leave exact aggregates', async () => {
    const all = events(1_200);
    let ingesting = true;
    const folded = [0, 0];
    // Both nodes fold in small steps the whole time: partitions are contended throughout.
    const folding = nodes.map(async (node, n) => {
      while (ingesting || (await node.store.journalBacklog()).events > 0) {
        folded[n] = (folded[n] as number) + (await node.store.fold(7)).events;
      }
    });
    const batches = Array.from({ length: all.length / 30 }, (_, b) => all.slice(b * 30, b * 30 + 30));
    let accepted = 0;
    try {
      // Each node ingests every other batch, four batches in flight.
      for (let b = 0; b < batches.length; b += 4) {
        const results = await Promise.all(
          batches
            .slice(b, b + 4)
            .map((batch, k) =>
              (nodes[(b + k) % 2] as (typeof nodes)[number]).services.telemetry.ingest(LETHE_ITSELF, batch),
            ),
        );
        accepted += results.reduce((sum, result) => sum + result.accepted, 0);
      }
    } finally {
      ingesting = false;
      await Promise.all(folding);
    }
    expect(accepted).toBe(all.length);
    // What the folds report adds up to what was accepted: nothing folded twice, nothing left.
    expect((folded[0] as number) + (folded[1] as number)).toBe(all.length);
    expect(folded.every((count) => count > 0)).toBe(true);

    const expected = new Map<string, number>();
    for (const event of all) {
      for (const field of event.fields) {
        const key = `${event.subject} ${field} ${event.policy}`;
        expected.set(key, (expected.get(key) ?? 0) + 1);
      }
    }
    const db = (nodes[0] as (typeof nodes)[number]).store.repository.db;
    const { rows } = await sql<{ subject: string; field: string; policy: string; use_count: number }>`
      select subject, field, policy, use_count from usages`.execute(db);
    expect(
      new Map(rows.map((row) => [`${row.subject} ${row.field} ${row.policy}`, Number(row.use_count)])),
    ).toEqual(expected);
    const links = await sql<{ uses: number }>`select sum(use_count) as uses from usage_links`.execute(db);
    expect(Number(links.rows[0]?.uses)).toBe(all.reduce((sum, event) => sum + event.fields.length, 0));
    // Every subject's expiry is the latest of its fields' (what a read shows), from either node.
    const view = await (nodes[1] as (typeof nodes)[number]).services.retention.subject(LETHE_ITSELF, 'n-s7');
    expect(view.fields.map((field) => field.field).sort()).toEqual(
      [...new Set(all.filter((event) => event.subject === 'n-s7').flatMap((event) => event.fields))].sort(),
    );
  });
});
