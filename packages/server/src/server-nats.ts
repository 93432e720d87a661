import type { NatsConnection } from '@nats-io/transport-node';
import type { Tokens } from './auth/tokens.js';
import type { Metrics } from './http/metrics.js';
import type { Logger } from './lib/logger.js';
import { NatsUsageIngest } from './retention/transports/nats-usage-ingest.js';
import type { Services } from './services.js';
import { JetStreamIngest } from './streams/jetstream-ingest.js';
import type { NatsSettings } from './streams/nats-settings.js';

/**
 * The JetStream consumers a node runs: privacy-stream events, and usage telemetry (the same
 * ingest as `POST /v1/events`, for publishers with a token). `stop` ends both; the server stops
 * them before the journal, so a batch they are storing still has the journal to append to.
 */
export async function startNatsConsumers(
  nats: NatsConnection,
  settings: NatsSettings,
  services: Services,
  tokens: Tokens,
  metrics: Metrics,
  logger: Logger,
): Promise<{ stop(): Promise<void> }> {
  const log = (message: string, error: unknown) => logger.error({ err: error }, message);
  const streams = new JetStreamIngest(nats, settings, services.streams, { metrics, log });
  await streams.start();
  const usage = new NatsUsageIngest(
    nats,
    {
      stream: settings.usageStream,
      subjects: settings.usageSubjects,
      consumer: settings.usageConsumer,
      rejectedPrefix: settings.usageRejectedPrefix,
      ackWaitMs: settings.ackWaitMs,
    },
    services.telemetry,
    (token) => tokens.verify(token),
    { metrics, log },
  );
  await usage.start();
  return {
    async stop() {
      await streams.stop();
      await usage.stop();
    },
  };
}
