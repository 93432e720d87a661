import { LETHE_ITSELF } from './auth/principal.js';
import type { SigningKeys } from './auth/signing-keys.js';
import type { JobSettings } from './lib/background-jobs.js';
import type { Logger } from './lib/logger.js';
import type { Services } from './services.js';
import type { WebhookSettings } from './webhooks/webhook-settings.js';

export const DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS = 60 * 60_000;
export const DEFAULT_DISCOVERY_TICK_MS = 5_000;
export const DEFAULT_KEY_RETENTION_SWEEP_MS = 10 * 60_000;
export const DEFAULT_EVENT_ID_SWEEP_MS = 60 * 60_000;
/** How often the signing key's age is checked (its rotation period is `keyRotationIntervalMs`). */
export const KEY_ROTATION_CHECK_MS = 60_000;

/** The intervals of `LetheOptions` the jobs read (absent: the defaults above). */
export interface JobIntervals {
  readonly auditCheckpointIntervalMs?: number;
  readonly discoveryTickMs?: number;
  readonly keyRetentionSweepMs?: number;
  readonly eventIdSweepMs?: number;
}

/** Key rotation: at start (the server may have been down for days) and every minute after. */
export function keyRotationJob(keys: SigningKeys, log: Logger): JobSettings {
  return {
    name: 'key-rotation',
    intervalMs: KEY_ROTATION_CHECK_MS,
    runAtStart: true,
    failure: 'signing key rotation failed',
    async run() {
      const rotated = await keys.rotateIfDue();
      if (rotated)
        log.info(
          {
            kid: rotated.kid,
            activatesAt: new Date(rotated.activatesAt).toISOString(),
            previous: rotated.previous?.kid,
          },
          'next signing key published',
        );
    },
  };
}

/** The server's periodic upkeep besides key rotation. */
export function upkeepJobs(services: Services, log: Logger, intervals: JobIntervals): JobSettings[] {
  const sweepMs = intervals.keyRetentionSweepMs ?? DEFAULT_KEY_RETENTION_SWEEP_MS;
  return [
    // Audit checkpoints: the chain head signed every hour (none when nothing was appended).
    {
      name: 'audit-checkpoint',
      intervalMs: intervals.auditCheckpointIntervalMs ?? DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS,
      failure: 'audit checkpoint failed',
      async run() {
        const checkpoint = await services.audit.checkpoint(LETHE_ITSELF);
        if (checkpoint) log.info({ seq: checkpoint.seq }, 'audit checkpoint signed');
      },
    },
    // Discovery: every source whose interval has passed is read; a failure is kept on the source.
    {
      name: 'discovery',
      intervalMs: intervals.discoveryTickMs ?? DEFAULT_DISCOVERY_TICK_MS,
      failure: 'data map discovery failed',
      run: () => services.discovery.runDue(),
    },
    // Key retention: field keys whose period ended longer ago than their contract keeps keys.
    {
      name: 'key-retention',
      intervalMs: sweepMs,
      failure: 'key retention sweep failed',
      async run() {
        for (const [contract, count] of await services.keyRetention.run()) {
          log.info({ contract, count }, 'privacy-stream keys shredded after their retention');
        }
      },
    },
    // Event ids past the dedupe window (LETHE_EVENT_ID_WINDOW) are forgotten.
    {
      name: 'event-id-window',
      intervalMs: intervals.eventIdSweepMs ?? DEFAULT_EVENT_ID_SWEEP_MS,
      failure: 'forgetting event ids past the dedupe window failed',
      async run() {
        const forgotten = await services.eventIds.run();
        if (forgotten > 0) log.info({ forgotten }, 'event ids past the dedupe window forgotten');
      },
    },
    // Stream retention: base-stream events older than LETHE_STREAM_RETENTION, once exported.
    {
      name: 'stream-retention',
      intervalMs: sweepMs,
      failure: 'stream retention sweep failed',
      async run() {
        const deleted = await services.streamRetention.run();
        if (deleted > 0) log.info({ deleted }, 'privacy-stream events past their retention deleted');
      },
    },
  ];
}

/** Webhooks: the outbox is sent every tick; time-found facts (deadlines, due days) are looked for less often. */
export function webhookJobs(services: Services, log: Logger, settings: WebhookSettings): JobSettings[] {
  return [
    {
      name: 'webhook-delivery',
      intervalMs: settings.tickMs,
      failure: 'webhook delivery failed',
      run: () => services.webhookDeliverer.tick(),
      // The attempts under way end (by their timeout at the latest) before the store closes.
      stop: () => services.webhookDeliverer.stop(),
    },
    {
      name: 'webhook-notices',
      intervalMs: settings.noticeTickMs,
      failure: 'looking for overdue requests and due fields to announce failed',
      run: () => services.webhookNotices.run(),
    },
    // The delivery log past LETHE_WEBHOOK_LOG_RETENTION, with the events and notices that no longer matter.
    {
      name: 'webhook-log-retention',
      intervalMs: settings.pruneTickMs,
      failure: 'webhook log retention sweep failed',
      async run() {
        const pruned = await services.webhookLogRetention.run();
        if (pruned.deliveries + pruned.events + pruned.notices > 0)
          log.info(pruned, 'webhook deliveries, events and notices past their retention deleted');
      },
    },
  ];
}
