import { AppError } from '../../lib/app-error.js';

export type ContractErrorReason =
  | 'invalid_name'
  | 'invalid_version'
  | 'schema_not_object'
  | 'unsupported_keyword'
  | 'invalid_schema'
  | 'invalid_attribute_name'
  | 'invalid_pattern'
  | 'attribute_not_declared'
  | 'attribute_not_string'
  | 'attribute_not_required'
  | 'key_link_personal'
  | 'duplicate_personal'
  | 'no_purposes'
  | 'unknown_purpose'
  | 'invalid_rule';

/**
 * A contract the server refuses. `path` leads into the contract input (`keyLink`,
 * `personal[1].purposes[0]`, `schema.properties.address.pattern`); both are also in `details`.
 */
export class ContractError extends AppError {
  constructor(
    readonly path: string,
    readonly reason: ContractErrorReason,
    message: string,
  ) {
    super('CONTRACT_INVALID', message, { path, reason });
    this.name = 'ContractError';
  }
}
