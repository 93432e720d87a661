import { describe, expect, it } from 'vitest';
import { subjectToken } from './jetstream-ingest.js';
import { natsSettingsFromEnv } from './nats-settings.js';

describe('NATS settings from the environment', () => {
  it('is off without NATS_URL', () => {
    expect(natsSettingsFromEnv({})).toBeUndefined();
    expect(natsSettingsFromEnv({ NATS_URL: '' })).toBeUndefined();
  });

  it('needs only NATS_URL: every name has a default', () => {
    expect(natsSettingsFromEnv({ NATS_URL: 'nats://n:4222' })).toEqual({
      url: 'nats://n:4222',
      stream: 'LETHE_EVENTS',
      subjects: ['lethe.events.>'],
      consumer: 'lethe-stream-ingest',
      rejectedStream: 'LETHE_REJECTED',
      rejectedPrefix: 'lethe.rejected',
      usageStream: 'LETHE_USAGE',
      usageSubjects: ['lethe.usage.>'],
      usageConsumer: 'lethe-usage-ingest',
      usageRejectedPrefix: 'lethe.usage-rejected',
      exportStream: 'LETHE_EXPORTS',
      exportSubjects: ['lethe.exports.>'],
      duplicateWindowMs: 600_000,
      ackWaitMs: 30_000,
    });
  });

  it('reads subject lists and durations, and refuses a duration that is not positive', () => {
    const settings = natsSettingsFromEnv({
      NATS_URL: 'nats://n',
      LETHE_NATS_SUBJECTS: ' a.> , b.c ,',
      LETHE_NATS_ACK_WAIT_SECONDS: '2.5',
    });
    expect(settings?.subjects).toEqual(['a.>', 'b.c']);
    expect(settings?.ackWaitMs).toBe(2_500);
    expect(() => natsSettingsFromEnv({ NATS_URL: 'nats://n', LETHE_NATS_ACK_WAIT_SECONDS: '0' })).toThrow(
      /LETHE_NATS_ACK_WAIT_SECONDS/,
    );
    expect(() =>
      natsSettingsFromEnv({ NATS_URL: 'nats://n', LETHE_NATS_DUPLICATE_WINDOW_SECONDS: 'soon' }),
    ).toThrow(/LETHE_NATS_DUPLICATE_WINDOW_SECONDS/);
  });
});

describe('dead-letter subject token', () => {
  it('keeps a contract name@version and makes anything NATS would read as syntax harmless', () => {
    expect(subjectToken('clicks@3')).toBe('clicks@3');
    expect(subjectToken('shop.orders@1')).toBe('shop_orders@1');
    expect(subjectToken('a b.*.>')).toBe('a_b____');
    expect(subjectToken('')).toBe('unknown');
    expect(subjectToken(undefined)).toBe('unknown');
  });
});
