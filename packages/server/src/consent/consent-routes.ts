import {
  ConsentImportResult,
  ConsentInput,
  ConsentViolationPage,
  ConsentViolationQuery,
  ConsentWriteResult,
  SubjectConsent,
  SubjectParams,
} from '@lethe/api';
import { Type } from 'typebox';
import type { Services } from '../services.js';
import { principalOf } from '../http/authenticate.js';
import type { TypedApp } from '../http/typed-app.js';

const tags = ['consent'];
const NDJSON = 'application/x-ndjson';

export function consentRoutes(app: TypedApp, { consent }: Services) {
  app.put(
    '/v1/subjects/:subject/consent',
    {
      config: { action: 'consent:write' },
      schema: {
        operationId: 'putConsent',
        summary: 'Record consent grants and withdrawals',
        tags,
        description:
          'Records grants (true) and withdrawals (false) per purpose, with what proves them, or the choices ' +
          'of an IAB TCF v2.2 TC string (tcString); the history is never overwritten. ' +
          "The subject's expiries are recomputed in the same transaction.",
        params: SubjectParams,
        body: ConsentInput,
        response: { 200: ConsentWriteResult },
      },
    },
    (request) => consent.put(principalOf(request), request.params.subject, request.body),
  );

  app.get(
    '/v1/subjects/:subject/consent',
    {
      config: { action: 'consent:read' },
      schema: {
        operationId: 'getConsent',
        summary: "A subject's consent with its proof",
        tags,
        params: SubjectParams,
        response: { 200: SubjectConsent },
      },
    },
    (request) => consent.get(principalOf(request), request.params.subject),
  );

  app.get(
    '/v1/consent/violations',
    {
      config: { action: 'consent:read' },
      schema: {
        operationId: 'listConsentViolations',
        summary: 'Uses without consent',
        tags,
        querystring: ConsentViolationQuery,
        response: { 200: ConsentViolationPage },
      },
    },
    (request) => consent.violations(principalOf(request), request.query),
  );

  // Its own scope, so that NDJSON arrives as text here: rejections name physical line numbers,
  // which the app-wide NDJSON parser (one value per non-blank line) does not keep.
  app.register(async (scope) => {
    scope.removeContentTypeParser(NDJSON);
    scope.addContentTypeParser(NDJSON, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    (scope as unknown as TypedApp).post(
      '/v1/consent/import',
      {
        config: { action: 'consent:write', contentTypes: [NDJSON, 'text/csv'], textPerItem: true },
        schema: {
          operationId: 'importConsent',
          summary: 'Import consent in bulk',
          tags,
          description:
            `Bulk consent: ${NDJSON} (one PUT body plus "subject" per line) or text/csv ` +
            '(subject, purpose, granted, at, notice, notice_version, source, method, channel, url, tc_string). ' +
            'Bad lines are reported by line number; the good ones are recorded in one transaction.',
          body: Type.String(),
          response: { 200: ConsentImportResult },
        },
      },
      (request) =>
        consent.import(
          principalOf(request),
          request.headers['content-type']?.startsWith('text/csv') ? 'csv' : 'ndjson',
          request.body,
        ),
    );
  });
}
