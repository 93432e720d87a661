import type {
  ContractHistory,
  DataContract,
  DataContractInput,
  ShredResult,
  StreamEvent,
  StreamIngestResult,
  StreamKey,
  StreamPage,
  ConsentImportResult,
  ConsentInput,
  ConsentViolationPage,
  ConsentViolationQuery,
  ConsentWriteResult,
  SubjectConsent,
  ErasureInput,
  ErasureResult,
  ExpiryItem,
  ExpiryPage,
  ExpiryQuery,
  ExpireNowInput,
  ExpireNowResult,
  Hold,
  HoldInput,
  IngestResult,
  DataMapGraph,
  DiscoveryRun,
  Manifest,
  ManifestResult,
  Job,
  JobListQuery,
  Policy,
  PolicyInput,
  PolicyVersion,
  RetentionPreview,
  SubjectEvent,
  SubjectEventDeletion,
  SubjectEventDeletionResult,
  SubjectEventResult,
  SubjectRetention,
  System,
  SystemInput,
  UsageEvent,
} from '@lethe/api';
import { NDJSON, searchParams, segment } from './http-transport.js';
import { RequestsClient } from './requests-client.js';
import type { ListResult, RequestOptions } from './client-base.js';

export type { LetheClientOptions, ListResult, RequestOptions, TokenProvider } from './client-base.js';

/**
 * Typed client for Lethe API v1. Every failed call rejects with a {@link LetheApiError}.
 *
 * @example
 * const lethe = new LetheClient({ url: 'http://localhost:7420', token: process.env.LETHE_TOKEN! });
 * await lethe.putPolicy('marketing-email', { purpose: 'marketing.email', retention: 'P2Y', legalBasis: 'consent' });
 * for await (const expiry of lethe.streamExpiries({ day: '2024-03-01', system: 'crm' })) {
 *   await erase(expiry.subject, expiry.field);
 *   await lethe.recordErasure(expiry.subject, { system: 'crm', fields: [expiry.field] });
 * }
 */
export class LetheClient extends RequestsClient {
  // Policies --------------------------------------------------------------------------------

  async putPolicy(name: string, input: PolicyInput, options?: RequestOptions): Promise<Policy> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/policies/${segment(name)}`,
      body: input,
      ...options,
    });
  }

  async getPolicy(name: string, options?: RequestOptions): Promise<Policy> {
    return this.transport.json({ method: 'GET', path: `/v1/policies/${segment(name)}`, ...options });
  }

  async listPolicies(options?: RequestOptions): Promise<ListResult<Policy>> {
    return this.transport.json({ method: 'GET', path: '/v1/policies', ...options });
  }

  /** Every version of a policy, oldest first. */
  async policyVersions(name: string, options?: RequestOptions): Promise<ListResult<PolicyVersion>> {
    return this.transport.json({ method: 'GET', path: `/v1/policies/${segment(name)}/versions`, ...options });
  }

  /**
   * Retires a policy: it is kept for history, new uses of it are rejected. `reason` is required
   * and kept on the retired version and in the audit log. Answers the retired policy.
   */
  async retirePolicy(name: string, reason: string, options?: RequestOptions): Promise<Policy> {
    // Before 0.2 the second argument was the options: a plain-JavaScript caller must not retire
    // with "[object Object]" as the reason.
    if (typeof reason !== 'string')
      throw new TypeError('retirePolicy(name, reason, options?): reason must be a string');
    return this.transport.json({
      method: 'DELETE',
      path: `/v1/policies/${segment(name)}`,
      query: searchParams({ reason }),
      ...options,
    });
  }

  /**
   * How expiries would move if the policy's retention became `retention` (an ISO 8601 duration),
   * counted from `since` (`last-use`, `first-use`, `event:<name>`, `until:<YYYY-MM-DD>`; the
   * policy's own when left out).
   */
  async previewRetention(
    name: string,
    retention: string,
    options?: RequestOptions & { since?: string },
  ): Promise<RetentionPreview> {
    const path = `/v1/policies/${segment(name)}/preview`;
    const { since, ...rest } = options ?? {};
    const body = since === undefined ? { retention } : { retention, since };
    return this.transport.json({ method: 'POST', path, body, ...rest });
  }

  // Background jobs ------------------------------------------------------------------------

  /** A background job (the recompute a retention change scheduled): state, progress, result. */
  async getJob(id: string, options?: RequestOptions): Promise<Job> {
    return this.transport.json({ method: 'GET', path: `/v1/jobs/${segment(id)}`, ...options });
  }

  /** Background jobs, newest first, optionally in one state. */
  async listJobs(query: JobListQuery = {}, options?: RequestOptions): Promise<ListResult<Job>> {
    return this.transport.json({ method: 'GET', path: '/v1/jobs', query: searchParams(query), ...options });
  }

  // Data map --------------------------------------------------------------------------------

  async putSystem(name: string, input: SystemInput, options?: RequestOptions): Promise<System> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/systems/${segment(name)}`,
      body: input,
      ...options,
    });
  }

  async getSystem(name: string, options?: RequestOptions): Promise<System> {
    return this.transport.json({ method: 'GET', path: `/v1/systems/${segment(name)}`, ...options });
  }

  async listSystems(options?: RequestOptions): Promise<ListResult<System>> {
    return this.transport.json({ method: 'GET', path: '/v1/systems', ...options });
  }

  /** The data-map graph, filtered by team, system and category (a parent category covers its children). */
  async graph(
    query: { team?: string; system?: string; category?: string; includeStale?: boolean } = {},
    options?: RequestOptions,
  ): Promise<DataMapGraph> {
    return this.transport.json({
      method: 'GET',
      path: '/v1/datamap/graph',
      query: searchParams(query),
      ...options,
    });
  }

  /** Reads a discovery source now instead of waiting for its interval. */
  async discover(source: string, options?: RequestOptions): Promise<DiscoveryRun> {
    const path = `/v1/datamap/sources/${segment(source)}/discover`;
    return this.transport.json({ method: 'POST', path, ...options });
  }

  /** The data categories and purposes the server knows (defaults and extensions). */
  async getTaxonomy(options?: RequestOptions): Promise<{
    categories: { key: string; parent?: string }[];
    purposes: { key: string; parent?: string }[];
  }> {
    return this.transport.json({ method: 'GET', path: '/v1/taxonomy', ...options });
  }

  // Manifests -------------------------------------------------------------------------------

  /** Applies a manifest as one unit; `dryRun` reports the changes without making them. */
  async applyManifest(
    manifest: Manifest,
    flags: { dryRun?: boolean; prune?: boolean; reason?: string } = {},
    options?: RequestOptions,
  ): Promise<ManifestResult> {
    const query = searchParams(flags);
    return this.transport.json({ method: 'POST', path: '/v1/manifest', query, body: manifest, ...options });
  }

  /** The declared map and active policies as a manifest that `applyManifest` accepts back unchanged. */
  async exportManifest(options?: RequestOptions): Promise<Manifest> {
    return this.transport.json({ method: 'GET', path: '/v1/manifest', ...options });
  }

  // Telemetry -------------------------------------------------------------------------------

  /**
   * Sends one batch. Events with an `id` are idempotent, so a batch may be resent after a failure.
   * For background sending with batching and retries use {@link Publisher}.
   */
  async publishEvents(events: UsageEvent[], options?: RequestOptions): Promise<IngestResult> {
    return this.transport.json({ method: 'POST', path: '/v1/events', body: { events }, ...options });
  }

  // Retention -------------------------------------------------------------------------------

  async getSubject(subject: string, options?: RequestOptions): Promise<SubjectRetention> {
    return this.transport.json({ method: 'GET', path: `/v1/subjects/${segment(subject)}`, ...options });
  }

  /** Makes the subject's fields (all it may see, or `input.fields`) due today: a DPO's decision. */
  async expireSubjectNow(
    subject: string,
    input: ExpireNowInput,
    options?: RequestOptions,
  ): Promise<ExpireNowResult> {
    const path = `/v1/subjects/${segment(subject)}/expire`;
    return this.transport.json({ method: 'POST', path, body: input, ...options });
  }

  // Legal holds -----------------------------------------------------------------------------

  async listHolds(options?: RequestOptions): Promise<Hold[]> {
    const list = await this.transport.json<{ items: Hold[] }>({
      method: 'GET',
      path: '/v1/holds',
      ...options,
    });
    return list.items;
  }

  async getHold(name: string, options?: RequestOptions): Promise<Hold> {
    return this.transport.json({ method: 'GET', path: `/v1/holds/${segment(name)}`, ...options });
  }

  /** Places a legal hold, or changes the one of that name (it keeps when and by whom it was placed). */
  async putHold(name: string, input: HoldInput, options?: RequestOptions): Promise<Hold> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/holds/${segment(name)}`,
      body: input,
      ...options,
    });
  }

  /** Releases a legal hold: what it kept past its expiry is due again at once. */
  async releaseHold(name: string, options?: RequestOptions): Promise<void> {
    await this.transport.json({ method: 'DELETE', path: `/v1/holds/${segment(name)}`, ...options });
  }

  /** One page of the expiry feed; pass `next` back as `cursor` for the following page. */
  async expiries(query: ExpiryQuery, options?: RequestOptions): Promise<ExpiryPage> {
    return this.transport.json({
      method: 'GET',
      path: '/v1/expiries',
      query: expiryParams(query),
      ...options,
    });
  }

  /**
   * The expiry feed as a stream: items are yielded as their lines arrive, so memory stays flat
   * however long the feed is. Leaving the loop early cancels the response.
   */
  async *streamExpiries(query: ExpiryQuery, options?: RequestOptions): AsyncGenerator<ExpiryItem, void> {
    const call = { method: 'GET', path: '/v1/expiries', query: expiryParams(query), accept: NDJSON } as const;
    yield* this.transport.ndjson<ExpiryItem>({ ...call, ...options });
  }

  /** Records that `input.system` deleted the subject's fields (all it held when `fields` is omitted). */
  async recordErasure(
    subject: string,
    input: ErasureInput,
    options?: RequestOptions,
  ): Promise<ErasureResult> {
    const path = `/v1/subjects/${segment(subject)}/erasures`;
    return this.transport.json({ method: 'POST', path, body: input, ...options });
  }

  /**
   * Records what happened to a subject (`{name: 'account-closed', at}`): policies with
   * `since: 'event:<name>'` count their retention from the first such event. An `id` makes a
   * retry a duplicate. The subject's expiries are recomputed before this resolves.
   */
  async recordSubjectEvents(
    subject: string,
    events: SubjectEvent | readonly SubjectEvent[],
    options?: RequestOptions,
  ): Promise<SubjectEventResult> {
    const path = `/v1/subjects/${segment(subject)}/events`;
    const body = Array.isArray(events) ? { events } : events;
    return this.transport.json({ method: 'POST', path, body, ...options });
  }

  /**
   * Takes back a subject's event recorded by mistake (every occurrence of `name`, or the one at
   * `at`), with a reason; the subject's fields that counted from it wait again. Admin or dpo.
   */
  async deleteSubjectEvents(
    subject: string,
    input: SubjectEventDeletion,
    options?: RequestOptions,
  ): Promise<SubjectEventDeletionResult> {
    const path = `/v1/subjects/${segment(subject)}/events/delete`;
    return this.transport.json({ method: 'POST', path, body: input, ...options });
  }

  // Consent ---------------------------------------------------------------------------------

  /** Records grants (true) and withdrawals (false) per purpose; the subject's expiries are recomputed. */
  async putConsent(
    subject: string,
    input: ConsentInput,
    options?: RequestOptions,
  ): Promise<ConsentWriteResult> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/subjects/${segment(subject)}/consent`,
      body: input,
      ...options,
    });
  }

  async getConsent(subject: string, options?: RequestOptions): Promise<SubjectConsent> {
    return this.transport.json({
      method: 'GET',
      path: `/v1/subjects/${segment(subject)}/consent`,
      ...options,
    });
  }

  /** Bulk consent as NDJSON or CSV text; bad lines come back in `rejected` with their line. */
  async importConsent(
    text: string,
    format: 'ndjson' | 'csv',
    options?: RequestOptions,
  ): Promise<ConsentImportResult> {
    const contentType = format === 'csv' ? 'text/csv' : NDJSON;
    return this.transport.json({
      method: 'POST',
      path: '/v1/consent/import',
      text: { body: text, contentType },
      ...options,
    });
  }

  async consentViolations(
    query: ConsentViolationQuery = {},
    options?: RequestOptions,
  ): Promise<ConsentViolationPage> {
    return this.transport.json({
      method: 'GET',
      path: '/v1/consent/violations',
      query: searchParams(query),
      ...options,
    });
  }

  // Privacy streams -------------------------------------------------------------------------

  /** Publishes a version of a data contract; versions are immutable (same content again is a no-op). */
  async putContract(name: string, input: DataContractInput, options?: RequestOptions): Promise<DataContract> {
    return this.transport.json({
      method: 'PUT',
      path: `/v1/contracts/${segment(name)}`,
      body: input,
      ...options,
    });
  }

  /** The newest version of a contract and the list of its versions. */
  async getContract(name: string, options?: RequestOptions): Promise<ContractHistory> {
    return this.transport.json({ method: 'GET', path: `/v1/contracts/${segment(name)}`, ...options });
  }

  /**
   * Sends stream events (envelopes naming their contract and carrying the subject's consent).
   * Refused events come back with every reason; ids already in the stream count as duplicates,
   * so a batch may be resent after a failure.
   */
  async publishStreamEvents(events: StreamEvent[], options?: RequestOptions): Promise<StreamIngestResult> {
    return this.transport.json({ method: 'POST', path: '/v1/streams/events', body: { events }, ...options });
  }

  /**
   * A page of the base stream (personal values encrypted), or of the derived stream for
   * `purposes`; read on with `after: page.lastSeq`.
   */
  async readStream(
    query: { after?: number; limit?: number; purposes?: string[]; withheld?: 'keep-encrypted' | 'drop' } = {},
    options?: RequestOptions,
  ): Promise<StreamPage> {
    const { purposes, ...rest } = query;
    const params = searchParams({ ...rest, ...(purposes ? { purposes: purposes.join(',') } : {}) });
    return this.transport.json({ method: 'GET', path: '/v1/streams/events', query: params, ...options });
  }

  /** The subject's stream keys (ids and periods, never key material), live and shredded. */
  async streamKeys(subject: string, options?: RequestOptions): Promise<ListResult<StreamKey>> {
    return this.transport.json({
      method: 'GET',
      path: `/v1/subjects/${segment(subject)}/stream-keys`,
      ...options,
    });
  }

  /** Crypto-shreds every stream key of the subject: their attributes are unreadable everywhere. */
  async shredStreamKeys(subject: string, options?: RequestOptions): Promise<ShredResult> {
    return this.transport.json({
      method: 'DELETE',
      path: `/v1/subjects/${segment(subject)}/stream-keys`,
      ...options,
    });
  }
}

function expiryParams(query: ExpiryQuery): URLSearchParams {
  return searchParams(query);
}
