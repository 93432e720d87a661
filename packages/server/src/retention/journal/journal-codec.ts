import type { FoldedEvent } from '../usage-batch.js';

/**
 * The usage journal's row format: one row holds the accepted events of one group commit, with
 * every name (subject, system, policy, purpose, field) written once in a string table and the
 * events as integer references to it plus their two times. The fold decodes it without parsing
 * JSON, and a row costs about 50 bytes per event of three fields (the request body costs ~200).
 *
 * Layout, little-endian: u32 version, u32 names, u32 events; each name as u32 byte length and
 * UTF-8 bytes; each event as f64 at, f64 keepsUntil, u32 subject, u32 system, u32 policy,
 * u32 purpose + 1 (0: no consent purpose), u32 field count, u32 per field.
 */
const VERSION = 1;
const EVENT_FIXED_BYTES = 8 + 8 + 4 * 5;

/** The events of one journal row: their ids are not kept (the append already deduplicated them). */
export type JournalEvent = FoldedEvent;

export function encodeJournalRow(events: readonly JournalEvent[]): Uint8Array {
  const ids = new Map<string, number>();
  const names: Buffer[] = [];
  const intern = (name: string): number => {
    let id = ids.get(name);
    if (id === undefined) {
      id = names.length;
      ids.set(name, id);
      names.push(Buffer.from(name, 'utf8'));
    }
    return id;
  };
  const refs: number[] = [];
  let fieldRefs = 0;
  for (const event of events) {
    refs.push(intern(event.subject), intern(event.system), intern(event.policy));
    refs.push(event.consentPurpose === undefined ? 0 : intern(event.consentPurpose) + 1);
    for (const field of event.fields) refs.push(intern(field));
    fieldRefs += event.fields.length;
  }
  const nameBytes = names.reduce((sum, name) => sum + 4 + name.length, 0);
  const size = 12 + nameBytes + events.length * EVENT_FIXED_BYTES + fieldRefs * 4;
  const buffer = Buffer.allocUnsafe(size);
  let offset = buffer.writeUInt32LE(VERSION, 0);
  offset = buffer.writeUInt32LE(names.length, offset);
  offset = buffer.writeUInt32LE(events.length, offset);
  for (const name of names) {
    offset = buffer.writeUInt32LE(name.length, offset);
    offset += name.copy(buffer, offset);
  }
  let ref = 0;
  for (const event of events) {
    offset = buffer.writeDoubleLE(event.at, offset);
    offset = buffer.writeDoubleLE(event.keepsUntil, offset);
    for (let i = 0; i < 4; i += 1) offset = buffer.writeUInt32LE(refs[ref++] as number, offset);
    offset = buffer.writeUInt32LE(event.fields.length, offset);
    for (let i = 0; i < event.fields.length; i += 1) {
      offset = buffer.writeUInt32LE(refs[ref++] as number, offset);
    }
  }
  return buffer;
}

/** The events of a row written by `encodeJournalRow`, appended to `into` (names are shared strings). */
export function decodeJournalRow(row: Uint8Array, into: JournalEvent[] = []): JournalEvent[] {
  const { buffer, names, eventCount, eventsAt } = readRowHeader(row);
  let offset = eventsAt;
  const name = (index: number): string => names[index] as string;
  for (let i = 0; i < eventCount; i += 1) {
    const at = buffer.readDoubleLE(offset);
    const keepsUntil = buffer.readDoubleLE(offset + 8);
    const subject = name(buffer.readUInt32LE(offset + 16));
    const system = name(buffer.readUInt32LE(offset + 20));
    const policy = name(buffer.readUInt32LE(offset + 24));
    const purpose = buffer.readUInt32LE(offset + 28);
    const fieldCount = buffer.readUInt32LE(offset + 32);
    offset += EVENT_FIXED_BYTES;
    const fields = new Array<string>(fieldCount);
    for (let f = 0; f < fieldCount; f += 1) fields[f] = name(buffer.readUInt32LE(offset + f * 4));
    offset += fieldCount * 4;
    into.push({
      subject,
      system,
      policy,
      fields,
      at,
      keepsUntil,
      ...(purpose === 0 ? {} : { consentPurpose: name(purpose - 1) }),
    });
  }
  return into;
}

/**
 * Journal rows decoded into columns of integers for the fold (`journal-aggregate.ts`): no object
 * and no string per event. Names are interned in two spaces, subjects and the rest (systems,
 * policies, purposes, fields: the catalog's few names), so that keys made of several of them pack
 * into one safe integer.
 */
export class InternedJournal {
  readonly subjects: string[] = [];
  readonly names: string[] = [];
  readonly at: number[] = [];
  readonly keepsUntil: number[] = [];
  readonly subject: number[] = [];
  readonly system: number[] = [];
  readonly policy: number[] = [];
  /** -1: no consent purpose. */
  readonly purpose: number[] = [];
  /** Event i's fields are `fields[fieldEnd[i - 1] ?? 0 .. fieldEnd[i]]`. */
  readonly fieldEnd: number[] = [];
  readonly fields: number[] = [];
  private readonly subjectIds = new Map<string, number>();
  private readonly nameIds = new Map<string, number>();

  get length(): number {
    return this.at.length;
  }

  /** Appends the events of a row written by `encodeJournalRow`. */
  decode(row: Uint8Array): void {
    const { buffer, names: local, eventCount, eventsAt } = readRowHeader(row);
    const nameCount = local.length;
    let offset = eventsAt;
    // Row-local index → interned id, looked up once per name and row (-1: not yet).
    const asSubject = new Array<number>(nameCount).fill(-1);
    const asName = new Array<number>(nameCount).fill(-1);
    const subjectId = (index: number) =>
      asSubject[index] !== -1
        ? (asSubject[index] as number)
        : (asSubject[index] = intern(this.subjectIds, this.subjects, local[index] as string));
    const nameId = (index: number) =>
      asName[index] !== -1
        ? (asName[index] as number)
        : (asName[index] = intern(this.nameIds, this.names, local[index] as string));
    for (let i = 0; i < eventCount; i += 1) {
      this.at.push(buffer.readDoubleLE(offset));
      this.keepsUntil.push(buffer.readDoubleLE(offset + 8));
      this.subject.push(subjectId(buffer.readUInt32LE(offset + 16)));
      this.system.push(nameId(buffer.readUInt32LE(offset + 20)));
      this.policy.push(nameId(buffer.readUInt32LE(offset + 24)));
      const purpose = buffer.readUInt32LE(offset + 28);
      this.purpose.push(purpose === 0 ? -1 : nameId(purpose - 1));
      const fieldCount = buffer.readUInt32LE(offset + 32);
      offset += EVENT_FIXED_BYTES;
      for (let f = 0; f < fieldCount; f += 1) this.fields.push(nameId(buffer.readUInt32LE(offset + f * 4)));
      offset += fieldCount * 4;
      this.fieldEnd.push(this.fields.length);
    }
  }
}

function intern(ids: Map<string, number>, names: string[], name: string): number {
  let id = ids.get(name);
  if (id === undefined) {
    id = names.length;
    ids.set(name, id);
    names.push(name);
  }
  return id;
}

/** A row's version check and its name table: the names, the event count, where events start. */
function readRowHeader(row: Uint8Array): {
  buffer: Buffer;
  names: string[];
  eventCount: number;
  eventsAt: number;
} {
  const buffer = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
  const version = buffer.readUInt32LE(0);
  if (version !== VERSION) throw new Error(`unknown usage journal row version ${version}`);
  const nameCount = buffer.readUInt32LE(4);
  const eventCount = buffer.readUInt32LE(8);
  let offset = 12;
  const names: string[] = new Array<string>(nameCount);
  for (let i = 0; i < nameCount; i += 1) {
    const length = buffer.readUInt32LE(offset);
    offset += 4;
    names[i] = buffer.toString('utf8', offset, offset + length);
    offset += length;
  }
  return { buffer, names, eventCount, eventsAt: offset };
}
