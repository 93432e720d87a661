import { ExpireNowInput, ExpireNowResult, SubjectParams } from '@lethe/api';
import { principalOf } from '../../http/authenticate.js';
import type { TypedApp } from '../../http/typed-app.js';
import type { Services } from '../../services.js';

/** `POST /v1/subjects/{id}/expire`: a DPO's decision that fields are due now (docs/retention.md). */
export function expireNowRoutes(app: TypedApp, { expireNow }: Services) {
  app.post(
    '/v1/subjects/:subject/expire',
    {
      config: { action: 'subjects:expire' },
      schema: {
        operationId: 'expireNow',
        summary: "Make a subject's fields due today",
        tags: ['retention'],
        params: SubjectParams,
        body: ExpireNowInput,
        response: { 200: ExpireNowResult },
      },
    },
    (request) => expireNow.expire(principalOf(request), request.params.subject, request.body),
  );
}
