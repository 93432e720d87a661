import { addDuration } from '../packages/server/src/lib/duration.js';
import { FIELD_NAMES, POLICY_NAMES, RETENTIONS, SYSTEM_NAMES } from './catalog.js';
import { distinctIndexes, randomIndex, seededRandom } from './random.js';

export interface WorkloadOptions {
  readonly events: number;
  readonly subjects: number;
  readonly batch: number;
  /** Epoch ms; event times are spread over the two years before it. */
  readonly now: number;
}

/** What a correct store holds after ingesting the workload once. */
export interface Expected {
  readonly events: number;
  /** (event, field) pairs: the naive table's rows and the sum of Lethe's use counts. */
  readonly fieldUses: number;
  readonly subjectFields: number;
  readonly subjects: number;
  /** A few subjects in full, to compare with `GET /v1/subjects/{subject}`. */
  readonly samples: ReadonlyMap<string, ReadonlyMap<string, ExpectedField>>;
}

export interface ExpectedField {
  expiresAt: number;
  /** The latest use: what keeps the field when every use lacks consent ("delete now"). */
  lastUseAt: number;
  /** Uses per policy. */
  counts: Map<string, number>;
}

export interface Workload {
  /** Request bodies, serialised before any timing starts. */
  readonly bodies: readonly Buffer[];
  readonly expected: Expected;
}

const YEAR_MS = 365.25 * 86_400_000;
const SAMPLE_SUBJECTS = 25;
const MAX_FIELDS_PER_EVENT = 5;

export function subjectName(index: number): string {
  return `subject-${index.toString().padStart(8, '0')}`;
}

/**
 * Usage events with unique ids: a uniformly chosen subject, system and policy, 1-5 distinct fields
 * (3 on average) out of the 12 declared, at a whole second within the last two years (so the
 * naive baseline's SQL date arithmetic sees exactly the instants Lethe sees). Seeded, so every
 * run sends the same bytes.
 */
export function generateWorkload(options: WorkloadOptions): Workload {
  const random = seededRandom(20_240_105);
  const sampleIndexes = new Set(distinctIndexes(random, options.subjects, SAMPLE_SUBJECTS));
  const samples = new Map<string, Map<string, ExpectedField>>();
  const subjectFields = new Set<number>();
  const subjects = new Set<number>();
  const start = options.now - 2 * YEAR_MS;
  const bodies: Buffer[] = [];
  let fieldUses = 0;

  for (let first = 0; first < options.events; first += options.batch) {
    const events = [];
    for (let index = first; index < Math.min(first + options.batch, options.events); index += 1) {
      const subject = randomIndex(random, options.subjects);
      const system = SYSTEM_NAMES[randomIndex(random, SYSTEM_NAMES.length)] as string;
      const policy = POLICY_NAMES[randomIndex(random, POLICY_NAMES.length)] as string;
      const fieldIndexes = distinctIndexes(
        random,
        FIELD_NAMES.length,
        1 + randomIndex(random, MAX_FIELDS_PER_EVENT),
      );
      const at = Math.floor((start + random() * (options.now - start)) / 1000) * 1000;
      const fields = fieldIndexes.map((f) => FIELD_NAMES[f] as string);

      subjects.add(subject);
      for (const f of fieldIndexes) subjectFields.add(subject * FIELD_NAMES.length + f);
      fieldUses += fields.length;
      if (sampleIndexes.has(subject)) recordSample(samples, subjectName(subject), policy, fields, at);
      events.push({
        id: `evt-${index}`,
        subject: subjectName(subject),
        system,
        policy,
        fields,
        at: isoSeconds(at),
      });
    }
    bodies.push(Buffer.from(JSON.stringify({ events })));
  }
  return {
    bodies,
    expected: {
      events: options.events,
      fieldUses,
      subjectFields: subjectFields.size,
      subjects: subjects.size,
      samples,
    },
  };
}

function recordSample(
  samples: Map<string, Map<string, ExpectedField>>,
  subject: string,
  policy: string,
  fields: readonly string[],
  at: number,
) {
  const retention = RETENTIONS.get(policy);
  if (!retention) throw new Error(`no retention for ${policy}`);
  const keepsUntil = addDuration(at, retention);
  let byField = samples.get(subject);
  if (!byField) samples.set(subject, (byField = new Map<string, ExpectedField>()));
  for (const field of fields) {
    const expected = byField.get(field) ?? { expiresAt: 0, lastUseAt: 0, counts: new Map<string, number>() };
    expected.expiresAt = Math.max(expected.expiresAt, keepsUntil);
    expected.lastUseAt = Math.max(expected.lastUseAt, at);
    expected.counts.set(policy, (expected.counts.get(policy) ?? 0) + 1);
    byField.set(field, expected);
  }
}

/** `2025-03-04T12:34:56Z`: the shortest instant the API accepts, as a client would send it. */
function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 19) + 'Z';
}
