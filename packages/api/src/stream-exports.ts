/**
 * Exports of a privacy stream: the base stream, or a derived stream for some purposes, written
 * continuously to NDJSON files (rotated by size and age, with a manifest) or published to a NATS
 * JetStream subject in real time.
 *
 *   PUT /v1/stream-exports/marketing-files
 *   { "target": "file", "purposes": ["marketing.profiling"], "withheld": "drop",
 *     "file": { "maxBytes": 67108864, "maxAgeSeconds": 300 } }
 *
 *   PUT /v1/stream-exports/live
 *   { "target": "nats", "nats": { "subject": "lethe.exports.live" } }
 *
 * The API never takes a path: file exports go to `<export dir>/<name>/` on the server.
 */
import { Type, type Static } from 'typebox';
import { Instant, Literals } from './common.js';

const strict = { additionalProperties: false } as const;

export const STREAM_EXPORT_TARGETS = ['file', 'nats'] as const;
export type StreamExportTarget = (typeof STREAM_EXPORT_TARGETS)[number];

export const StreamExportInput = Type.Object(
  {
    target: Literals(STREAM_EXPORT_TARGETS),
    purposes: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'the derived stream for these purposes; absent: the base stream (personal values encrypted)',
      }),
    ),
    withheld: Type.Optional(
      Type.Union([Type.Literal('keep-encrypted'), Type.Literal('drop')], {
        description: 'personal values the purposes may not read: kept as ciphertext (default) or left out',
      }),
    ),
    file: Type.Optional(
      Type.Object(
        {
          maxBytes: Type.Optional(
            Type.Integer({ minimum: 1024, description: 'a part is finished at this size (default 64 MiB)' }),
          ),
          maxAgeSeconds: Type.Optional(
            Type.Integer({ minimum: 1, description: 'a part is finished at this age (default 300)' }),
          ),
        },
        strict,
      ),
    ),
    nats: Type.Optional(
      Type.Object(
        {
          subject: Type.String({
            minLength: 1,
            maxLength: 255,
            description: 'a literal subject (no wildcards) that a JetStream stream captures',
          }),
        },
        strict,
      ),
    ),
  },
  strict,
);
export type StreamExportInput = Static<typeof StreamExportInput>;

export const StreamExportStatus = Type.Object({
  /** Base-stream position delivered up to (for files: the manifest's). */
  position: Type.Integer({ minimum: 0 }),
  /** Events in the base stream after `position`; absent when the stream cannot say. */
  lag: Type.Optional(Type.Integer({ minimum: 0 })),
  filesWritten: Type.Integer({ minimum: 0 }),
  lastError: Type.Optional(Type.String()),
  lastErrorAt: Type.Optional(Instant),
  /** The node running the export and until when its lease holds. */
  runningOn: Type.Optional(Type.String()),
  leaseUntil: Type.Optional(Instant),
});
export type StreamExportStatus = Static<typeof StreamExportStatus>;

export const StreamExport = Type.Interface([Type.Object({ name: Type.String() }), StreamExportInput], {
  createdAt: Instant,
  updatedAt: Instant,
  status: StreamExportStatus,
});
export type StreamExport = Static<typeof StreamExport>;
