import {
  SubjectEventBatch,
  SubjectEventDeletion,
  SubjectEventDeletionResult,
  SubjectEventResult,
  SubjectParams,
} from '@lethe/api';
import { Type } from 'typebox';
import { principalOf } from '../../http/authenticate.js';
import type { TypedApp } from '../../http/typed-app.js';
import type { Services } from '../../services.js';

/**
 * `POST /v1/subjects/{id}/events`: what happened to a subject, for `event:` policies
 * (docs/retention.md); `POST /v1/subjects/{id}/events/delete` takes one back.
 */
export function subjectEventRoutes(app: TypedApp, { subjectEvents }: Services) {
  app.post(
    '/v1/subjects/:subject/events',
    {
      config: { action: 'events:publish', textPerItem: true },
      schema: {
        operationId: 'recordSubjectEvents',
        summary: "Record a subject's events (aging from an event)",
        tags: ['retention'],
        description:
          'Subject events as one `{"id"?, "name", "at"}` object, `{"events": [...]}` (application/json) or one ' +
          'event per line (application/x-ndjson). Each event is validated on its own.',
        params: SubjectParams,
        body: {
          content: {
            'application/json': {
              schema: Type.Union([SubjectEventBatch, Type.Object({}, { additionalProperties: true })]),
            },
            'application/x-ndjson': { schema: Type.Array(Type.Unknown()) },
          },
        },
        response: { 200: SubjectEventResult },
      },
    },
    (request) => {
      const body = request.body as unknown[] | { events?: unknown[] };
      const events = Array.isArray(body) ? body : Array.isArray(body.events) ? body.events : [body];
      return subjectEvents.record(principalOf(request), request.params.subject, events);
    },
  );

  app.post(
    '/v1/subjects/:subject/events/delete',
    {
      config: { action: 'events:correct' },
      schema: {
        operationId: 'deleteSubjectEvents',
        summary: "Take back a subject's event recorded by mistake",
        tags: ['retention'],
        description:
          "Removes the subject's events of `name` (only the one at `at`, when given), with a reason, and recomputes " +
          'its fields: those counting from the event wait again. 404 SUBJECT_EVENT_NOT_FOUND when nothing matched.',
        params: SubjectParams,
        body: SubjectEventDeletion,
        response: { 200: SubjectEventDeletionResult },
      },
    },
    (request) => subjectEvents.remove(principalOf(request), request.params.subject, request.body),
  );
}
