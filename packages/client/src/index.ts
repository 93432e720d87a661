export { LetheApiError } from './api-error.js';
export type { LetheApiErrorInit, LetheErrorCode } from './api-error.js';
export { backoffDelay } from './backoff.js';
export type { BackoffSchedule } from './backoff.js';
export { LetheClient } from './client.js';
export type { LetheClientOptions, ListResult, RequestOptions, TokenProvider } from './client.js';
export { Publisher } from './publisher.js';
export type { JetStreamLike, NatsTarget } from './nats-transport.js';
export type {
  CloseResult,
  DropReason,
  PublishableEvent,
  PublisherOptions,
  PublisherStats,
  RejectedEvent,
  RetryOptions,
  SendBatch,
  SendFailure,
} from './publisher.js';
export { CALL_TOKEN_TYPE, createCallVerifier, LetheCallError } from './verify-call.js';
export type {
  CallActor,
  CallVerifier,
  CallVerifierOptions,
  LetheCallErrorCode,
  VerifiedCall,
} from './verify-call.js';
export type {
  DatasetDeclaration,
  ErasureInput,
  ErasureResult,
  ErrorBody,
  ErrorCode,
  EventRejection,
  ExpiryItem,
  ExpiryLevel,
  ExpiryPage,
  ExpiryQuery,
  IngestResult,
  LegalBasis,
  Policy,
  PolicyInput,
  PolicyVersion,
  PreviewInput,
  Reappearance,
  RetentionPreview,
  SubjectField,
  SubjectRetention,
  System,
  SystemInput,
  UsageEvent,
  Use,
} from '@lethe/api';
