import type { Kysely } from 'kysely';
import { AuditQueries } from '../audit/audit-queries.js';
import { SigningKeyQueries } from '../auth/signing-key-queries.js';
import { ConsentQueries } from '../consent/consent-queries.js';
import { DataMapQueries } from '../datamap/datamap-queries.js';
import { JobQueries } from '../jobs/job-queries.js';
import { DomainGaugeQueries } from '../observability/domain-gauge-queries.js';
import { OverviewQueries } from '../overview/overview-queries.js';
import { RequestQueries } from '../requests/request-queries.js';
import { RetentionQueries } from '../retention/retention-queries.js';
import { HoldQueries } from '../retention/holds/hold-queries.js';
import { ExpireNowQueries } from '../retention/expire-now/expire-now-queries.js';
import { SubjectEventQueries } from '../retention/aging/subject-event-queries.js';
import { SignInCodeQueries } from '../session/sign-in-code-queries.js';
import { StreamExportQueries } from '../streams/exports/stream-export-queries.js';
import { FieldKeyQueries } from '../streams/field-key-queries.js';
import { StreamQueries } from '../streams/stream-queries.js';
import { MetaQueries } from './meta-queries.js';
import type { Database } from './schema.js';
import { WebhookQueries } from '../webhooks/webhook-queries.js';

/**
 * The queries shared by every backend, written once with Kysely in each feature's `*-queries.ts`
 * and gathered here. An instance wraps either the database or a transaction; the store hands out
 * the right one, so every query object of one instance runs in the same transaction.
 */
export class Repository {
  /** Small server-wide values by key (`meta`). */
  readonly meta: MetaQueries;
  /** The catalog (policies, systems), usages, expiries, erasures and re-appearances. */
  readonly retention: RetentionQueries;
  /** Legal holds. */
  readonly holds: HoldQueries;
  /** Expire-now decisions on field expiries. */
  readonly expireNow: ExpireNowQueries;
  /** Subjects' events, which `event:` policies count from. */
  readonly subjectEvents: SubjectEventQueries;
  /** The audit log's hash chain and its signed checkpoints. */
  readonly audit: AuditQueries;
  /** Signing keys' public halves and wrapped private halves. */
  readonly signingKeys: SigningKeyQueries;
  /** The data map's tables. */
  readonly datamap: DataMapQueries;
  /** Rights requests, their tasks and records, the suppression list, SQL connectors. */
  readonly requests: RequestQueries;
  /** Privacy streams' field keys, wrapped, and the tombstones of shredded ones. */
  readonly fieldKeys: FieldKeyQueries;
  /** Privacy streams: data contract versions and the base stream. */
  readonly streams: StreamQueries;
  /** Consent history, its derived state, and uses without consent. */
  readonly consent: ConsentQueries;
  /** Exports of privacy streams, their positions and leases. */
  readonly streamExports: StreamExportQueries;
  /** Aggregate counts for the dashboard's overview. */
  readonly overview: OverviewQueries;
  /** One-time sign-in links' codes, by hash. */
  readonly signInCodes: SignInCodeQueries;
  /** Background jobs (a retention recompute), their progress and leases. */
  readonly jobs: JobQueries;
  /** The counts behind `/metrics`' scrape-time gauges (overdue requests, fields past expiry, lags). */
  readonly gauges: DomainGaugeQueries;
  /** Webhook subscriptions, their outbox of events, deliveries and notices given. */
  readonly webhooks: WebhookQueries;

  constructor(readonly db: Kysely<Database>) {
    this.meta = new MetaQueries(db);
    this.retention = new RetentionQueries(db);
    this.holds = new HoldQueries(db);
    this.expireNow = new ExpireNowQueries(db);
    this.subjectEvents = new SubjectEventQueries(db);
    this.audit = new AuditQueries(db);
    this.signingKeys = new SigningKeyQueries(db);
    this.consent = new ConsentQueries(db);
    this.datamap = new DataMapQueries(db);
    this.requests = new RequestQueries(db);
    this.fieldKeys = new FieldKeyQueries(db);
    this.streams = new StreamQueries(db);
    this.streamExports = new StreamExportQueries(db);
    this.overview = new OverviewQueries(db);
    this.signInCodes = new SignInCodeQueries(db);
    this.jobs = new JobQueries(db);
    this.gauges = new DomainGaugeQueries(db);
    this.webhooks = new WebhookQueries(db);
  }
}
