/**
 * The API's enumerations that forms and filters offer as choices, taken from `@lethe/api/choices`
 * (plain lists, without the schema library): the schemas build their literal unions from the
 * same lists, so a status or type the API gains is offered here too.
 */
export {
  FINAL_REQUEST_STATUSES,
  JURISDICTIONS,
  LEGAL_BASES,
  OPEN_REQUEST_STATUSES,
  REQUEST_DUE_WINDOWS,
  REQUEST_STATUSES,
  REQUEST_STRATEGIES,
  REQUEST_TYPES,
} from '@lethe/api/choices';

/** `legal_obligation` → `legal obligation`. */
export function spaced(value: string): string {
  return value.replace(/_/g, ' ');
}
