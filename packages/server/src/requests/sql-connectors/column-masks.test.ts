import { PII_TAG } from '@lethe/api';
import { describe, expect, it } from 'vitest';
import {
  columnRules,
  erasedFor,
  isPersonal,
  resolveMask,
  tableErasure,
  type ColumnFacts,
} from './column-masks.js';

const text = (maxLength?: number, nullable = true): ColumnFacts => ({
  type: { kind: 'text', declared: maxLength === undefined ? 'text' : `varchar(${maxLength})` },
  nullable,
  maxLength,
});
const integer = (nullable = true): ColumnFacts => ({
  type: { kind: 'integer', declared: 'integer' },
  nullable,
  maxLength: undefined,
});
const date = (nullable = true): ColumnFacts => ({
  type: { kind: 'other', declared: 'date' },
  nullable,
  maxLength: undefined,
});

describe('columnRules and isPersonal', () => {
  it('reads a tag array as before, and the object form', () => {
    expect(columnRules(['email', PII_TAG])).toEqual({
      tags: ['email', PII_TAG],
      categories: [],
      mask: undefined,
    });
    expect(columnRules({ categories: ['user.name'], mask: { strategy: 'hmac' } })).toEqual({
      tags: [],
      categories: ['user.name'],
      mask: { strategy: 'hmac' },
    });
  });

  it('a column is personal when tagged compliance/pii or of a user.* category', () => {
    expect(isPersonal(columnRules([PII_TAG]))).toBe(true);
    expect(isPersonal(columnRules({ categories: ['user.contact.email'] }))).toBe(true);
    expect(isPersonal(columnRules({ categories: ['system.operations'] }))).toBe(false);
    expect(isPersonal(columnRules({ categories: ['username'] }))).toBe(false);
    expect(isPersonal(columnRules(['email']))).toBe(false);
  });
});

describe('erasedFor: a delete_pii limited to categories', () => {
  const email = columnRules({ tags: ['email'], categories: ['user.contact.email'] });
  const name = columnRules({ categories: ['user.name'] });
  const tagged = columnRules([PII_TAG]);

  it('without a list every personal column', () => {
    expect([email, name, tagged].map((rules) => erasedFor(rules, undefined))).toEqual([true, true, true]);
  });

  it('with a list only the columns of a category under one of them; untagged-by-category ones are left', () => {
    expect([email, name, tagged].map((rules) => erasedFor(rules, ['user.contact']))).toEqual([
      true,
      false,
      false,
    ]);
    expect(erasedFor(email, ['user.contact.email'])).toBe(true);
    expect(erasedFor(email, ['user.contact.phone'])).toBe(false);
    // A prefix that is not an ancestor covers nothing.
    expect(erasedFor(email, ['user.con'])).toBe(false);
  });
});

describe('tableErasure', () => {
  it('row deletes on delete and masks on delete_pii; fields masks on both; never keeps', () => {
    expect(tableErasure('delete', undefined)).toBe('delete');
    expect(tableErasure('delete', 'row')).toBe('delete');
    expect(tableErasure('delete', 'fields')).toBe('mask');
    expect(tableErasure('delete', 'never')).toBe('keep');
    expect(tableErasure('delete_pii', 'row')).toBe('mask');
    expect(tableErasure('delete_pii', 'fields')).toBe('mask');
    expect(tableErasure('delete_pii', 'never')).toBe('keep');
  });
});

describe('resolveMask', () => {
  it('defaults: NULL when nullable; a NOT NULL text gets erased cut to its length, a number 0', () => {
    expect(resolveMask('c', undefined, text(20))).toEqual({ kind: 'set', value: null });
    expect(resolveMask('c', undefined, text(20, false))).toEqual({ kind: 'set', value: 'erased' });
    expect(resolveMask('c', undefined, text(3, false))).toEqual({ kind: 'set', value: 'era' });
    expect(resolveMask('c', undefined, integer(false))).toEqual({ kind: 'set', value: 0 });
  });

  it('a NOT NULL column of another type needs a mask, named', () => {
    expect(resolveMask('born', undefined, date(false))).toEqual({
      problem: "column 'born' (date, NOT NULL) is NOT NULL and not text or a number: give it a mask",
    });
    expect(resolveMask('born', { strategy: 'fixed', value: '1970-01-01' }, date(false))).toEqual({
      kind: 'set',
      value: '1970-01-01',
    });
  });

  it('null on a NOT NULL column, a fixed value too long or not a number are problems', () => {
    expect(resolveMask('c', { strategy: 'null' }, text(5, false))).toHaveProperty('problem');
    expect(resolveMask('c', { strategy: 'fixed', value: 'toolong' }, text(5))).toEqual({
      problem: "column 'c' (varchar(5)): the fixed value is longer than 5 characters",
    });
    expect(resolveMask('c', { strategy: 'fixed', value: 'gone' }, text(5))).toEqual({
      kind: 'set',
      value: 'gone',
    });
    expect(resolveMask('n', { strategy: 'fixed', value: 'x' }, integer())).toHaveProperty('problem');
    expect(resolveMask('n', { strategy: 'fixed', value: '1.5' }, integer())).toHaveProperty('problem');
    expect(resolveMask('n', { strategy: 'fixed', value: '-1' }, integer())).toEqual({
      kind: 'set',
      value: -1,
    });
  });

  it('hmac and random need text, and are cut to its length', () => {
    expect(resolveMask('c', { strategy: 'hmac' }, text())).toEqual({ kind: 'hmac', length: 64 });
    expect(resolveMask('c', { strategy: 'hmac' }, text(20))).toEqual({ kind: 'hmac', length: 20 });
    expect(resolveMask('c', { strategy: 'random' }, text())).toEqual({ kind: 'random', length: 32 });
    expect(resolveMask('c', { strategy: 'random' }, text(8))).toEqual({ kind: 'random', length: 8 });
    expect(resolveMask('n', { strategy: 'hmac' }, integer())).toEqual({
      problem: "column 'n' (integer): a hmac mask needs a text column",
    });
    expect(resolveMask('d', { strategy: 'random' }, date())).toHaveProperty('problem');
  });
});
