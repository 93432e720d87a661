/** Background jobs: work taken off the request path (a retention recompute), with its progress. */
import { Type, type Static } from 'typebox';
import { Instant, QueryInteger } from './common.js';

const strict = { additionalProperties: false } as const;

export const JobState = Type.Union([
  Type.Literal('queued'),
  Type.Literal('running'),
  Type.Literal('done'),
  Type.Literal('failed'),
  Type.Literal('superseded'),
]);
export type JobState = Static<typeof JobState>;

/** A job id as paths carry it (`job_` and 32 hex digits). */
export const JobId = Type.String({ pattern: '^job_[0-9a-f]{32}$', description: 'job_ and 32 hex digits' });
export const JobParams = Type.Object({ id: JobId }, strict);

export const JobProgress = Type.Object({
  /** Units of work done (for a recompute: subject-fields recomputed). */
  done: Type.Integer(),
  /** Units counted when the job started; absent while queued. Ingest during the job may add some. */
  total: Type.Optional(Type.Integer()),
});

/** What a retention recompute changed, in the words of the preview (`RetentionPreview`). */
export const RecomputeResult = Type.Object({
  subjectFieldsUsingPolicy: Type.Integer(),
  subjectFieldsChanged: Type.Integer(),
  subjectFieldsEarlier: Type.Integer(),
  subjectFieldsLater: Type.Integer(),
  earliestNewExpiry: Type.Optional(Instant),
  latestNewExpiry: Type.Optional(Instant),
});
export type RecomputeResult = Static<typeof RecomputeResult>;

export const Job = Type.Object({
  id: JobId,
  kind: Type.Literal('retention-recompute'),
  state: JobState,
  /** The policy whose expiries are recomputed, and the version that asked for it. */
  policy: Type.String(),
  policyVersion: Type.Integer(),
  progress: JobProgress,
  /** So far while running; final once done. */
  result: Type.Optional(RecomputeResult),
  /** Why it failed. */
  error: Type.Optional(Type.String()),
  /** The job of a later change of the same policy, which does this one's work again. */
  supersededBy: Type.Optional(JobId),
  createdBy: Type.String(),
  createdAt: Instant,
  startedAt: Type.Optional(Instant),
  finishedAt: Type.Optional(Instant),
});
export type Job = Static<typeof Job>;

export const JobListQuery = Type.Object(
  {
    state: Type.Optional(JobState),
    limit: Type.Optional(QueryInteger({ minimum: 1, maximum: 500, default: 100 })),
  },
  strict,
);
export type JobListQuery = Static<typeof JobListQuery>;

/** On a policy: the recompute of its expiries that is still under way (absent when none is). */
export const PolicyRecompute = Type.Object({
  job: JobId,
  state: JobState,
  progress: JobProgress,
});
export type PolicyRecompute = Static<typeof PolicyRecompute>;
