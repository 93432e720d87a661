/**
 * The seams of privacy streams: how events get into the base stream (`StreamIngest`) and how
 * the base stream and its derived streams are read back (`StreamReader`). The HTTP routes and the
 * NATS JetStream consumer write through the first; exporters (files, NATS) and the HTTP read
 * route read through the second.
 */
import type { StreamIngestResult } from '@lethe/api';
import type { Principal } from '../auth/principal.js';
import type { WithheldMode } from './field-crypto.js';

/** An event of the base stream as stored: every personal value is a field ciphertext. */
export interface StoredStreamEvent {
  /** Position in the base stream: grows with every appended event, never reused. */
  readonly seq: number;
  /** The event's own id; unique in the stream (a second event with it is a duplicate). */
  readonly id: string;
  /** `name@version` of its contract. */
  readonly contract: string;
  /** Purposes the subject consented to for this very event. */
  readonly consent: readonly string[];
  /** Epoch ms: the envelope's `at`, else when Lethe received the event. */
  readonly at: number;
  readonly receivedAt: number;
  /** The event's data with every personal value encrypted. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** Which stream is read: the base stream, or a derived stream for a set of purposes. */
export interface StreamView {
  /** Purposes of a derived stream; absent for the base stream (personal values stay encrypted). */
  readonly purposes?: readonly string[];
  /** In a derived stream, what happens to personal values it may not read (default keep-encrypted). */
  readonly withheld?: WithheldMode;
}

/** An event as a view shows it: what an NDJSON line or a NATS message carries. */
export interface ViewedStreamEvent {
  readonly seq: number;
  readonly id: string;
  readonly contract: string;
  readonly consent: readonly string[];
  /** ISO 8601 instant. */
  readonly at: string;
  readonly data: Record<string, unknown>;
  /** Personal attributes the view may read but could not: key shredded, or value damaged. */
  readonly unreadable?: readonly string[];
}

export interface StreamPage {
  readonly events: ViewedStreamEvent[];
  /**
   * The last base-stream position looked at; read on after it. Events a derived stream leaves
   * out (consent does not cover its purposes) advance it too, so it can be past the last event.
   */
  readonly lastSeq: number;
}

export interface StreamReader {
  /** Up to `limit` base-stream events after position `afterSeq`, in order, as `view` sees them. */
  read(view: StreamView, afterSeq: number, limit: number): Promise<StreamPage>;
  /**
   * Resolves as soon as an event after `afterSeq` is committed through this node, or after
   * `timeoutMs` at the latest (another node may have appended): read again either way.
   */
  waitForEvents(afterSeq: number, timeoutMs: number): Promise<void>;
}

export interface StreamIngest {
  /**
   * Validates each envelope against its contract, encrypts its personal values and appends the
   * good ones in one durable transaction (resolving means they are on disk). Refused events are
   * answered with every reason; an event whose id is already in the stream is a duplicate.
   */
  ingest(principal: Principal, envelopes: readonly unknown[]): Promise<StreamIngestResult>;
}
