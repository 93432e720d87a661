import {
  SubjectEvent,
  type EventRejection,
  type SubjectEventDeletion,
  type SubjectEventDeletionResult,
  type SubjectEventResult,
} from '@lethe/api';
import { audit } from '../../audit/audit-trail.js';
import { authorize } from '../../auth/permissions.js';
import type { Principal } from '../../auth/principal.js';
import { AppError } from '../../lib/app-error.js';
import { schemaProblem } from '../../lib/id-rule.js';
import { compileCheck } from '../../lib/schema-check.js';
import { MalformedLine } from '../../lib/ndjson.js';
import { parseInstant } from '../../lib/time.js';
import { subtractDuration, type Duration } from '../../lib/duration.js';
import type { Repository } from '../../store/repository.js';
import type { Store } from '../../store/store.js';
import { CatalogView } from '../catalog-cache.js';
import { refreshSubjectFields } from '../retention-recompute.js';
import type { SubjectEventRow } from '../retention-tables.js';

const eventSchema = compileCheck(SubjectEvent);

/** Events per request at most; more is a 413 `BATCH_TOO_LARGE`. */
export const MAX_SUBJECT_EVENTS = 1_000;

/**
 * Subject events (docs/retention.md, "Aging"): something that happened to a subject, such as
 * `account-closed`, which `event:` policies count their retention from. Sent like usage telemetry
 * (`events:publish`: admin, or a service token for any subject — the event names no system — dated
 * within the event-id window),
 * each event validated on its own; stored once per (subject, name, time) and per client id, so a
 * retry is a duplicate. In the same transaction, which folds the usage journal first, the
 * subject's fields are recomputed from their usages: a field waiting for the event gets its
 * expiry at once. Audited as `subject.events`.
 */
export class SubjectEventService {
  constructor(
    private readonly store: Store,
    private readonly maxClockSkewMs: number,
    /** How far back a service token may date an event (the event-id window): older ones are an admin's. */
    private readonly serviceWindow: Duration,
  ) {}

  async record(
    principal: Principal,
    subject: string,
    events: readonly unknown[],
  ): Promise<SubjectEventResult> {
    authorize(principal, 'events:publish');
    if (events.length > MAX_SUBJECT_EVENTS) {
      throw new AppError(
        'BATCH_TOO_LARGE',
        `A request may hold at most ${MAX_SUBJECT_EVENTS} subject events; this one holds ${events.length}.`,
      );
    }
    const now = Date.now();
    // A service names no system in its event, yet the event moves every system's fields of the
    // subject: it may report what just happened, not rewrite the past (backfills are an admin's).
    const oldest = principal.role === 'service' ? subtractDuration(now, this.serviceWindow) : undefined;
    const rejected: EventRejection[] = [];
    const valid: SubjectEventRow[] = [];
    events.forEach((raw, index) => {
      const result = this.check(raw, now, oldest);
      if ('code' in result) rejected.push({ index, ...result });
      else
        valid.push({
          subject,
          name: result.name,
          at: result.at,
          event_id: result.id ?? null,
          received_at: now,
        });
    });
    if (valid.length === 0) return { accepted: 0, duplicates: 0, rejected, fieldsChanged: 0 };
    return this.store.transaction(
      async (repository) => {
        let accepted = 0;
        for (const row of valid) if (await repository.subjectEvents.insert(row)) accepted += 1;
        let fieldsChanged = 0;
        if (accepted > 0) {
          fieldsChanged = await refreshSubject(repository, principal, subject);
          await audit(repository, principal, 'subject.events', `subject:${subject}`);
        }
        return { accepted, duplicates: valid.length - accepted, rejected, fieldsChanged };
      },
      { freshAggregates: true },
    );
  }

  /**
   * Takes back an event recorded by mistake (`events:correct`: admin, dpo) and recomputes the
   * subject's fields in the same transaction: a field that counted from it waits again (or counts
   * from a later occurrence). Audited with the reason as `subject.events.delete`.
   */
  async remove(
    principal: Principal,
    subject: string,
    input: SubjectEventDeletion,
  ): Promise<SubjectEventDeletionResult> {
    authorize(principal, 'events:correct');
    const at = input.at === undefined ? undefined : parseInstant(input.at);
    if (input.at !== undefined && at === undefined) {
      throw new AppError('INVALID_TIME', `"${input.at}" is not an ISO 8601 instant with a zone.`);
    }
    return this.store.transaction(
      async (repository) => {
        const deleted = await repository.subjectEvents.delete(subject, input.name, at);
        if (deleted === 0) {
          throw new AppError(
            'SUBJECT_EVENT_NOT_FOUND',
            `Subject "${subject}" has no event "${input.name}"${input.at !== undefined ? ` at ${input.at}` : ''}.`,
          );
        }
        const fieldsChanged = await refreshSubject(repository, principal, subject);
        await audit(
          repository,
          principal,
          'subject.events.delete',
          `subject:${subject} event=${input.name}${input.at !== undefined ? ` at=${input.at}` : ''} deleted=${deleted} reason=${JSON.stringify(input.reason)}`,
        );
        return { deleted, fieldsChanged };
      },
      { freshAggregates: true },
    );
  }

  private check(
    raw: unknown,
    now: number,
    oldest: number | undefined,
  ): { id?: string; name: string; at: number } | { code: string; message: string } {
    if (raw instanceof MalformedLine)
      return { code: 'INVALID_JSON', message: `Line is not JSON: ${raw.message}` };
    if (!eventSchema.check(raw)) {
      const message = schemaProblem(eventSchema.problems(raw)[0], 'does not match the subject event schema');
      return { code: 'INVALID_EVENT', message };
    }
    const at = parseInstant(raw.at);
    if (at === undefined)
      return { code: 'INVALID_TIME', message: `"${raw.at}" is not an ISO 8601 instant with a zone.` };
    if (at > now + this.maxClockSkewMs)
      return { code: 'INVALID_TIME', message: `"${raw.at}" lies in the future.` };
    if (oldest !== undefined && at < oldest)
      return {
        code: 'INVALID_TIME',
        message: `"${raw.at}" is older than a service token may date an event (the event-id window); an admin records older events.`,
      };
    return { ...(raw.id !== undefined ? { id: raw.id } : {}), name: raw.name, at };
  }
}

/**
 * Recomputes the subject's fields after its events changed; answers how many moved. A service
 * token learns only its own system's count: an event moves every system's fields of the subject,
 * and how many another system holds is not its business.
 */
async function refreshSubject(
  repository: Repository,
  principal: Principal,
  subject: string,
): Promise<number> {
  const rules = new CatalogView(await repository.retention.loadCatalog());
  const pairs = await repository.retention.fieldExpiriesOfSubjects([subject]);
  if (principal.role !== 'service') return (await refreshSubjectFields(repository, pairs, rules)).changed;
  const own = pairs.filter((pair) => pair.system === principal.system);
  const changed = (await refreshSubjectFields(repository, own, rules)).changed;
  await refreshSubjectFields(
    repository,
    pairs.filter((pair) => pair.system !== principal.system),
    rules,
  );
  return changed;
}
