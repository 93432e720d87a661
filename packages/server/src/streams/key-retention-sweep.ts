import { LETHE_ITSELF } from '../auth/principal.js';
import { subtractDuration } from '../lib/duration.js';
import type { ContractService } from './contract-service.js';
import type { FieldKeyService } from './field-key-service.js';

/**
 * Shreds privacy-stream keys whose contract's `keyRetention` has run out: a key whose rotation
 * period ended more than `keyRetention` ago is shredded, so events older than that are unreadable
 * everywhere they were copied. Keys are per contract name, so the newest version's retention
 * applies to all of them. Run by a timer in `server.ts`; each run is idempotent.
 */
export class KeyRetentionSweep {
  constructor(
    private readonly contracts: ContractService,
    private readonly keys: FieldKeyService,
  ) {}

  /** Shreds what is due at `now`; returns how many keys were shredded per contract name. */
  async run(now = Date.now()): Promise<Map<string, number>> {
    const shredded = new Map<string, number>();
    for (const [contract, retention] of await this.contracts.keyRetentions()) {
      const count = await this.keys.shredEndedBy(LETHE_ITSELF, contract, subtractDuration(now, retention));
      if (count > 0) shredded.set(contract, count);
    }
    return shredded;
  }
}
