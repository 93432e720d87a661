import type { IngestResult, UsageEvent } from '@lethe/api';
import type { TokenProvider } from './client-base.js';
import type { SendBatch } from './publisher.js';

/**
 * The part of a NATS JetStream client this target uses: what `jetstream(nc)` of
 * `@nats-io/jetstream` returns. Headers are made with `headers()` of `@nats-io/nats-core` (an
 * optional peer dependency that the NATS clients bring along, loaded only when the NATS target
 * is used).
 */
export interface JetStreamLike {
  publish(
    subject: string,
    data: Uint8Array,
    options?: { msgID?: string; headers?: unknown },
  ): Promise<{ duplicate: boolean }>;
}

/** Where the Publisher sends over NATS (docs/telemetry.md). */
export interface NatsTarget {
  /** `jetstream(nc)` of `@nats-io/jetstream`: publishes are acknowledged by JetStream once stored. */
  jetstream: JetStreamLike;
  /** The Lethe token sent with every message (`Authorization: Bearer`), or a function renewing it. */
  token: string | TokenProvider;
  /** Subject prefix; events go to `<prefix>.<system>`. Default `lethe.usage`. */
  subjectPrefix?: string;
}

const UTF8 = new TextEncoder();

/**
 * Sends a batch as one JetStream message per system, `{"events": [...]}` on
 * `<prefix>.<system>` with the token in a header. Resolves once JetStream has stored every
 * message: Lethe's nodes take them from there (acknowledging only after their own durable
 * append). Events Lethe refuses go to its dead-letter subject, not to `onRejected`. A retried
 * batch carries the same Nats-Msg-Id, so JetStream stores it once; Lethe dedupes on event ids.
 */
export function natsSend(target: NatsTarget): SendBatch {
  const prefix = target.subjectPrefix ?? 'lethe.usage';
  let makeHeaders: (() => { set(name: string, value: string): void }) | undefined;
  return async (events: UsageEvent[]): Promise<IngestResult> => {
    makeHeaders ??= (await import('@nats-io/nats-core')).headers;
    const token = typeof target.token === 'string' ? target.token : await target.token();
    const bySystem = new Map<string, UsageEvent[]>();
    for (const event of events) {
      const group = bySystem.get(event.system);
      if (group) group.push(event);
      else bySystem.set(event.system, [event]);
    }
    await Promise.all(
      [...bySystem].map(([system, group]) => {
        const headers = makeHeaders!();
        headers.set('Authorization', `Bearer ${token}`);
        // Ids are fixed at publish time: a retry of this batch has the same message id.
        const msgID = `${group[0]!.id}|${group.length}|${group[group.length - 1]!.id}`;
        return target.jetstream.publish(
          `${prefix}.${system}`,
          UTF8.encode(JSON.stringify({ events: group })),
          {
            msgID,
            headers,
          },
        );
      }),
    );
    return { accepted: events.length, duplicates: 0, rejected: [] };
  };
}
