import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ALL_BACKENDS, availableBackends } from './support/backends.js';
import { crashTrial, KILL_AFTER_ACKS } from './support/crash-trial.js';
import { killAllServers } from './support/lethe-process.js';

const available = await availableBackends();

/**
 * API.md: "200 means every accepted event is durable". One crash trial per backend
 * (`support/crash-trial.ts`): a real `lethe serve` SIGKILLed the moment a batch is acknowledged,
 * other batches in flight; after a restart every acknowledged event is there, every batch is
 * all-or-nothing, and a full resend is all duplicates. `npm run fuzz` runs it 20 times.
 */
describe.each(ALL_BACKENDS)('durability across a crash: $name', { timeout: 60_000 }, (backend) => {
  const missing = !available.includes(backend);
  let location: Awaited<ReturnType<typeof backend.create>>;

  beforeEach(async (context) => {
    if (missing) return context.skip('PostgreSQL is not reachable here (see the warning above)');
    location = await backend.create();
  });
  afterEach(async () => {
    await killAllServers();
    if (!missing) await location.dispose();
  });

  it('keeps every acknowledged batch after SIGKILL, and a full resend is all duplicates', async () => {
    const trial = await crashTrial(location);
    expect(trial.problems).toEqual([]);
    expect(trial.acknowledged).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
  });
});
