import { UsageEvent, type EventRejection, type IngestResult } from '@lethe/api';
import { authorize, mayActForSystem } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { schemaProblem } from '../lib/id-rule.js';
import { compileCheck } from '../lib/schema-check.js';
import { SILENT_LOGGER, type Logger } from '../lib/logger.js';
import { MalformedLine } from '../lib/ndjson.js';
import { parseInstant } from '../lib/time.js';
import type { AcceptedEvent } from './usage-batch.js';
import type { Store } from '../store/store.js';
import { auditRecord } from '../audit/audit-trail.js';
import type { CatalogCache, CatalogView } from './catalog-cache.js';
import type { SuppressionWatch } from './suppression-watch.js';
import type { JournalFold } from './journal/journal-fold.js';

/** The audit target of a batch: how many events, for which systems. */
function publishTarget(events: readonly AcceptedEvent[]): string {
  const systems = [...new Set(events.map((event) => event.system))].sort();
  return `events:${events.length} system:${systems.join(',')}`;
}

const eventSchema = compileCheck(UsageEvent);

/** Refused by the store: the event's id may have been forgotten already (docs/api.md). */
function outsideWindow(index: number): EventRejection {
  return {
    index,
    code: 'EVENT_OUTSIDE_DEDUPE_WINDOW',
    message:
      'The event has an id but lies before the event-id dedupe window, so a retry could not be recognised; send it without an id to count it.',
  };
}

export interface TelemetryLimits {
  /** Events per request; more is a 413 BATCH_TOO_LARGE. */
  readonly maxBatchEvents: number;
  /** How far in the future an event's `at` may lie (clock skew), in ms. */
  readonly maxClockSkewMs: number;
}

export const DEFAULT_TELEMETRY_LIMITS: TelemetryLimits = {
  maxBatchEvents: 10_000,
  maxClockSkewMs: 5 * 60_000,
};

/** Validation rounds before giving up on a catalog that keeps changing under the batch. */
const MAX_CATALOG_ROUNDS = 5;

/**
 * Usage telemetry: validates each event on its own (a bad event is rejected with its index and
 * code, the rest go in), then appends the batch to the usage journal in one durable transaction;
 * the journal's fold applies it to the expiries (docs/retention.md).
 */
export class TelemetryService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
    private readonly limits: TelemetryLimits = DEFAULT_TELEMETRY_LIMITS,
    private readonly watch?: SuppressionWatch,
    private readonly log: Logger = SILENT_LOGGER,
    private readonly journal?: JournalFold,
  ) {}

  async ingest(principal: Principal, events: readonly unknown[]): Promise<IngestResult> {
    authorize(principal, 'events:publish');
    if (events.length > this.limits.maxBatchEvents) {
      throw new AppError(
        'BATCH_TOO_LARGE',
        `A batch may hold at most ${this.limits.maxBatchEvents} events; this one holds ${events.length}.`,
      );
    }
    this.journal?.admit();
    let view = await this.catalog.current();
    for (let round = 1; ; round += 1) {
      const receivedAt = Date.now();
      const { accepted, positions, rejected } = this.validate(principal, events, view, receivedAt);
      const outcome = accepted.length
        ? await this.store.ingest({
            catalogVersion: view.version,
            events: accepted,
            receivedAt,
            audit: auditRecord(principal, 'events.publish', publishTarget(accepted)),
          })
        : ({ kind: 'committed', duplicates: [], forgotten: [] } as const);
      if (outcome.kind === 'committed') {
        const stored = accepted.length - outcome.duplicates.length - outcome.forgotten.length;
        this.journal?.appended(stored);
        await this.flagErasedPeople(accepted);
        return {
          accepted: stored,
          duplicates: outcome.duplicates.length,
          rejected: outcome.forgotten.length
            ? [
                ...rejected,
                ...outcome.forgotten.map((index) => outsideWindow(positions[index] as number)),
              ].sort((a, b) => a.index - b.index)
            : rejected,
        };
      }
      if (round >= MAX_CATALOG_ROUNDS) {
        throw new AppError(
          'UNAVAILABLE',
          'Policies or systems kept changing during ingest; retry the batch.',
        );
      }
      view = await this.catalog.reload();
    }
  }

  /**
   * After the commit: telemetry about people an erasure removed is recorded as a suppression hit.
   * A failure here is logged, not answered: the batch is durable and must be acknowledged.
   */
  private async flagErasedPeople(accepted: readonly AcceptedEvent[]): Promise<void> {
    try {
      await this.watch?.check(accepted);
    } catch (error) {
      this.log.error({ err: error }, 'suppression check failed after ingest');
    }
  }

  private validate(principal: Principal, events: readonly unknown[], view: CatalogView, now: number) {
    const accepted: AcceptedEvent[] = [];
    /** The index in the request of each accepted event. */
    const positions: number[] = [];
    const rejected: EventRejection[] = [];
    events.forEach((raw, index) => {
      const result = this.check(principal, raw, view, now);
      if ('code' in result) rejected.push({ index, ...result });
      else {
        accepted.push(result);
        positions.push(index);
      }
    });
    return { accepted, positions, rejected };
  }

  private check(
    principal: Principal,
    raw: unknown,
    view: CatalogView,
    now: number,
  ): AcceptedEvent | { code: string; message: string } {
    if (raw instanceof MalformedLine)
      return { code: 'INVALID_JSON', message: `Line is not JSON: ${raw.message}` };
    const subject = (raw as { subject?: unknown } | null)?.subject;
    if (typeof raw === 'object' && raw !== null && (subject === undefined || subject === '')) {
      return { code: 'SUBJECT_MISSING', message: 'The event names no subject.' };
    }
    if (!eventSchema.check(raw)) {
      const message = schemaProblem(eventSchema.problems(raw)[0], 'does not match the event schema');
      return { code: 'INVALID_EVENT', message };
    }
    const at = parseInstant(raw.at);
    if (at === undefined)
      return { code: 'INVALID_TIME', message: `"${raw.at}" is not an ISO 8601 instant with a zone.` };
    if (at > now + this.limits.maxClockSkewMs) {
      return { code: 'INVALID_TIME', message: `"${raw.at}" lies in the future.` };
    }
    if (!view.hasSystem(raw.system))
      return { code: 'SYSTEM_NOT_FOUND', message: `No system named "${raw.system}".` };
    if (!mayActForSystem(principal, raw.system)) {
      return {
        code: 'SYSTEM_NOT_PERMITTED',
        message: `This token may not publish for system "${raw.system}".`,
      };
    }
    const policy = view.policy(raw.policy);
    if (!policy) return { code: 'POLICY_NOT_FOUND', message: `No policy named "${raw.policy}".` };
    if (policy.status === 'retired') {
      return {
        code: 'POLICY_RETIRED',
        message: `Policy "${raw.policy}" is retired; new uses are not accepted.`,
      };
    }
    const undeclared = raw.fields.find((field) => !view.isDeclaredField(field));
    if (undeclared !== undefined) {
      return { code: 'FIELD_NOT_DECLARED', message: `Field "${undeclared}" is not declared by any dataset.` };
    }
    const consentPurpose = view.consentPurpose(raw.policy);
    // Accepted with or without consent: the store checks consent inside its transaction and
    // records a use without it as a violation that extends nothing.
    return {
      id: raw.id,
      subject: raw.subject,
      system: raw.system,
      policy: raw.policy,
      fields: raw.fields.length > 1 ? [...new Set(raw.fields)] : raw.fields,
      at,
      keepsUntil: view.useEnd(raw.policy, at),
      ...(consentPurpose !== undefined ? { consentPurpose } : {}),
    };
  }
}
