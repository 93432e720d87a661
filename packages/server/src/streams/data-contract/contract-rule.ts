import type { ContractRule, StreamEventRejection } from '@lethe/api';
import { valueAt } from './attribute-path.js';
import { ContractError } from './contract-error.js';
import { compilePattern, resolveAttribute, typesOf } from './contract-schema.js';
import { reject } from './event-rejection.js';
import { jsonEqual, jsonType } from './json-value.js';

/** A contract rule checked and ready to apply; made by `compileRule`. */
export interface CompiledRule {
  readonly attribute: string;
  readonly pattern?: { readonly source: string; readonly regex: RegExp };
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly enum?: readonly unknown[];
}

const STRING_RULES = ['pattern', 'minLength', 'maxLength'] as const;
const NUMBER_RULES = ['minimum', 'maximum'] as const;

export function compileRule(schema: Record<string, unknown>, rule: ContractRule, at: string): CompiledRule {
  const resolved = resolveAttribute(schema, rule.attribute, `${at}.attribute`);
  const constraints = [...STRING_RULES, ...NUMBER_RULES, 'enum'] as const;
  if (!constraints.some((name) => rule[name] !== undefined)) {
    throw new ContractError(at, 'invalid_rule', `The rule for "${rule.attribute}" sets no constraint.`);
  }
  const declared = typeof resolved.schema === 'boolean' ? [] : typesOf(resolved.schema);
  const mismatch = (names: readonly string[], types: readonly string[]): string | undefined =>
    declared.length > 0 && !declared.some((type) => types.includes(type))
      ? names.find((name) => rule[name as keyof typeof rule] !== undefined)
      : undefined;
  const misplaced = mismatch(STRING_RULES, ['string']) ?? mismatch(NUMBER_RULES, ['number', 'integer']);
  if (misplaced !== undefined) {
    throw new ContractError(
      `${at}.${misplaced}`,
      'invalid_rule',
      `${misplaced} does not apply to "${rule.attribute}", declared as ${declared.join(' or ')}.`,
    );
  }
  for (const name of ['minLength', 'maxLength'] as const) {
    const value = rule[name];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
      throw new ContractError(`${at}.${name}`, 'invalid_rule', `${name} must be a non-negative integer.`);
    }
  }
  for (const name of NUMBER_RULES) {
    const value = rule[name];
    if (value !== undefined && !Number.isFinite(value)) {
      throw new ContractError(`${at}.${name}`, 'invalid_rule', `${name} must be a finite number.`);
    }
  }
  if (rule.minLength !== undefined && rule.maxLength !== undefined && rule.minLength > rule.maxLength) {
    throw new ContractError(at, 'invalid_rule', 'minLength is greater than maxLength: no value could pass.');
  }
  if (rule.minimum !== undefined && rule.maximum !== undefined && rule.minimum > rule.maximum) {
    throw new ContractError(at, 'invalid_rule', 'minimum is greater than maximum: no value could pass.');
  }
  if (rule.enum !== undefined && rule.enum.length === 0) {
    throw new ContractError(`${at}.enum`, 'invalid_rule', 'enum must list at least one value.');
  }
  let pattern: CompiledRule['pattern'];
  if (rule.pattern !== undefined) {
    const regex = compilePattern(rule.pattern);
    if (!regex) {
      throw new ContractError(
        `${at}.pattern`,
        'invalid_pattern',
        `"${rule.pattern}" is not a valid regular expression.`,
      );
    }
    pattern = { source: rule.pattern, regex };
  }
  return {
    attribute: rule.attribute,
    ...(pattern && { pattern }),
    ...(rule.minLength !== undefined && { minLength: rule.minLength }),
    ...(rule.maxLength !== undefined && { maxLength: rule.maxLength }),
    ...(rule.minimum !== undefined && { minimum: rule.minimum }),
    ...(rule.maximum !== undefined && { maximum: rule.maximum }),
    ...(rule.enum !== undefined && { enum: rule.enum }),
  };
}

export function ruleRejections(
  rule: CompiledRule,
  data: unknown,
  wrongTypes: ReadonlySet<string>,
): StreamEventRejection[] {
  const value = valueAt(data, rule.attribute);
  const path = `data.${rule.attribute}`;
  if (value === undefined || wrongTypes.has(path)) return [];
  const reasons: StreamEventRejection[] = [];
  const violated = (name: string, message: string): void => {
    reasons.push({ ...reject('RULE_VIOLATION', path, `${path} ${message}.`), rule: name });
  };
  if (rule.pattern || rule.minLength !== undefined || rule.maxLength !== undefined) {
    if (typeof value !== 'string') {
      violated(
        rule.pattern ? 'pattern' : rule.minLength !== undefined ? 'minLength' : 'maxLength',
        `must be a string, not ${jsonType(value)}`,
      );
    } else {
      const length = [...value].length;
      if (rule.pattern && !rule.pattern.regex.test(value))
        violated('pattern', `must match pattern "${rule.pattern.source}"`);
      if (rule.minLength !== undefined && length < rule.minLength)
        violated('minLength', `must have at least ${rule.minLength} characters`);
      if (rule.maxLength !== undefined && length > rule.maxLength)
        violated('maxLength', `must have at most ${rule.maxLength} characters`);
    }
  }
  if (rule.minimum !== undefined || rule.maximum !== undefined) {
    if (typeof value !== 'number') {
      violated(
        rule.minimum !== undefined ? 'minimum' : 'maximum',
        `must be a number, not ${jsonType(value)}`,
      );
    } else {
      if (rule.minimum !== undefined && value < rule.minimum)
        violated('minimum', `must be >= ${rule.minimum}`);
      if (rule.maximum !== undefined && value > rule.maximum)
        violated('maximum', `must be <= ${rule.maximum}`);
    }
  }
  if (rule.enum && !rule.enum.some((allowed) => jsonEqual(allowed, value))) {
    violated('enum', `must be one of ${rule.enum.map((allowed) => JSON.stringify(allowed)).join(', ')}`);
  }
  return reasons;
}
