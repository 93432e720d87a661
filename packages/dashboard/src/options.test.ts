import { RequestListQuery, RequestTask, RightsRequest } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import {
  JURISDICTIONS,
  OPEN_REQUEST_STATUSES,
  REQUEST_DUE_WINDOWS,
  REQUEST_STATUSES,
  REQUEST_STRATEGIES,
  REQUEST_TYPES,
} from './options.js';

/** The values of a literal union as the API's schema (and so its OpenAPI document) states them. */
function literals(schema: unknown): unknown[] {
  const union = (schema as { anyOf?: { const: unknown }[] }).anyOf;
  if (!union) throw new Error(`not a literal union: ${JSON.stringify(schema)}`);
  return union.map((member) => member.const);
}

describe("the dashboard's choices", () => {
  it("are the literal unions of the API's schemas, so none can be forgotten", () => {
    const request = RightsRequest.properties;
    expect(REQUEST_STATUSES).toEqual(literals(request.status));
    expect(REQUEST_TYPES).toEqual(literals(request.type));
    expect(REQUEST_STRATEGIES).toEqual(literals(request.strategy));
    expect(JURISDICTIONS).toEqual(literals(request.jurisdiction));
    expect(REQUEST_DUE_WINDOWS).toEqual(literals(RequestListQuery.properties.due));
    expect(literals(RequestTask.properties.state)).toContain('waiting_approval');
    for (const status of OPEN_REQUEST_STATUSES) expect(REQUEST_STATUSES).toContain(status);
  });
});
