import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFuzzWorld, type FuzzWorld } from './fuzz-world.js';
import { runFuzz } from './fuzz-run.js';
import { HiddenNames, tokensOf } from './oracles.js';

/**
 * The short run of the fuzzer (issue 16): requests generated from the OpenAPI document for every
 * route and method, as every caller, with valid, mutated and junk bodies, query values, path
 * values and content types, over real HTTP on loopback to a Lethe loaded with the demo company.
 * Seeded, so a failure here is the same failure on the next run; `npm run fuzz` is the long run.
 */
const SEED = 20_261_206;
const REQUESTS = 5_000;
const TIME_LIMIT_MS = 30_000;

let world: FuzzWorld;
beforeAll(async () => {
  world = await openFuzzWorld();
});
afterAll(() => world?.close());

describe('the fuzzer', () => {
  it(
    'gets no 5xx, no answer outside the envelope and no scope leak, on every route',
    { timeout: 90_000 },
    async () => {
      const figures = await runFuzz(world, {
        seed: SEED,
        requests: REQUESTS,
        timeLimitMs: TIME_LIMIT_MS,
        restoreEvery: 1_000,
      });
      expect(figures.findings, JSON.stringify(figures.findings, null, 2)).toEqual([]);
      // Enough of a run to mean something, even on a slow machine: every operation was called.
      expect(Object.keys(figures.perOperation).sort()).toEqual(world.operations.map((op) => op.key).sort());
      expect(figures.requests).toBeGreaterThan(world.operations.length * 5);
      // The answers were not all refusals: the generated requests reached the code behind them.
      const ok = Object.entries(figures.statuses).filter(([status]) => Number(status) < 300);
      expect(ok.reduce((sum, [, count]) => sum + count, 0)).toBeGreaterThan(figures.requests / 10);
    },
  );
});

describe('its oracles', () => {
  const catalog = [
    { name: 'accounts.email', categories: ['user.contact.email'] },
    { name: 'accounts.name', categories: ['user.name'] },
  ];

  it('see a hidden field or category as a whole word, not inside a visible one', () => {
    const hidden = new HiddenNames(['user.contact'], catalog);
    const leaks = (text: string) => hidden.leaks(tokensOf(text), new Set(), false);
    expect(leaks('{"field":"accounts.name"}')).toEqual(['accounts.name']);
    expect(leaks('telemetry: used accounts.name.')).toEqual(['accounts.name']);
    expect(leaks('{"categories":["user.name"]}')).toEqual(['user.name']);
    expect(leaks('{"field":"accounts.email","categories":["user.contact.email"]}')).toEqual([]);
    expect(leaks('{"field":"accounts.names"}')).toEqual([]);
  });

  it('forgive an echo of what the caller sent, and the taxonomy its categories', () => {
    const hidden = new HiddenNames(['user.contact'], catalog);
    const answer = tokensOf('{"error":{"message":"may not see accounts.name (user.name)"}}');
    expect(hidden.leaks(answer, tokensOf('/v1/expiries?field=accounts.name'), false)).toEqual(['user.name']);
    expect(hidden.leaks(tokensOf('{"key":"user.name"}'), new Set(), true)).toEqual([]);
  });

  it('forget what the fuzzer itself made visible to the scope', () => {
    const hidden = new HiddenNames(['user.contact'], catalog);
    hidden.shrink([{ name: 'accounts.name', categories: ['user.name', 'user.contact.email'] }]);
    expect(hidden.leaks(tokensOf('accounts.name user.name'), new Set(), false)).toEqual([]);
  });
});
