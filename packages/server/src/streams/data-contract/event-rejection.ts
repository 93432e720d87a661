import type { ErrorObject } from 'ajv/dist/2020.js';
import type { StreamEventRejection, StreamRejectionCode } from '@lethe/api';
import { childPath, pointerToPath, valueAtPointer } from './attribute-path.js';
import { jsonType } from './json-value.js';

export function reject(code: StreamRejectionCode, path: string, message: string): StreamEventRejection {
  return { code, path, message };
}

export function rejectionOfAjvError(error: ErrorObject, data: unknown): StreamEventRejection {
  const path = pointerToPath('data', error.instancePath, data);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const missing = childPath(path, String(params.missingProperty));
      return reject('MISSING_ATTRIBUTE', missing, `${missing} is mandatory but missing.`);
    }
    case 'additionalProperties': {
      const extra = childPath(path, String(params.additionalProperty));
      return reject('EXTRA_ATTRIBUTE', extra, `${extra} is not an attribute of this contract.`);
    }
    case 'type': {
      const expected = (
        Array.isArray(params.type) ? params.type.map(String) : String(params.type).split(',')
      ).join(' or ');
      const got = jsonType(valueAtPointer(data, error.instancePath));
      return { ...reject('WRONG_TYPE', path, `${path} must be ${expected}, not ${got}.`), expected, got };
    }
    default:
      return {
        ...reject('RULE_VIOLATION', path, `${path} ${error.message ?? `fails ${error.keyword}`}.`),
        rule: error.keyword,
      };
  }
}
