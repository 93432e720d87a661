import { describe, expect, it } from 'vitest';
import { mysqlColumnType, postgresColumnType, sqliteColumnType, type ColumnType } from './column-types.js';
import { comparison, REQUEST_TEXT, toColumnValue, toColumnValues } from './typed-values.js';

const INT4 = postgresColumnType('integer', 'int4');
const INT8 = postgresColumnType('bigint', 'int8');
const TEXT = postgresColumnType('text', 'text');
const NUMERIC = postgresColumnType('numeric', 'numeric');
const FLOAT8 = postgresColumnType('double precision', 'float8');
const UUID = postgresColumnType('uuid', 'uuid');
const BYTEA = postgresColumnType('bytea', 'bytea');
const DATE = postgresColumnType('date', 'date');

describe('toColumnValue', () => {
  it('text to integer: only the canonical decimal form, within the column range', () => {
    const convert = (value: unknown, to: ColumnType = INT4) => toColumnValue(value, TEXT, to);
    expect(convert('2')).toBe(2);
    expect(convert('-2')).toBe(-2);
    expect(convert('0')).toBe(0);
    for (const odd of ['guest-7', '02', ' 2', '2 ', '+2', '2.0', '-0', '', '1e3', '0x10', '２']) {
      expect(convert(odd), JSON.stringify(odd)).toBeUndefined();
    }
    expect(convert('2147483647')).toBe(2147483647);
    expect(convert('2147483648')).toBeUndefined();
    expect(convert('9223372036854775807', INT8)).toBe(9223372036854775807n);
    expect(convert('9223372036854775808', INT8)).toBeUndefined();
  });

  it('numbers to integer: whole values only, whatever their JS form', () => {
    expect(toColumnValue(2, INT8, INT4)).toBe(2);
    expect(toColumnValue(2n, INT8, INT4)).toBe(2);
    expect(toColumnValue('9007199254740993', INT8, INT8)).toBe(9007199254740993n);
    expect(toColumnValue('2.00', NUMERIC, INT4)).toBe(2);
    expect(toColumnValue('2.50', NUMERIC, INT4)).toBeUndefined();
    expect(toColumnValue(2.5, FLOAT8, INT4)).toBeUndefined();
    expect(toColumnValue(Number.NaN, FLOAT8, INT4)).toBeUndefined();
    expect(toColumnValue(-1, INT4, mysqlColumnType('int', 'int(10) unsigned'))).toBeUndefined();
  });

  it('to text: numbers as their decimal form, text as is, bytes only when UTF-8', () => {
    expect(toColumnValue(2, INT4, TEXT)).toBe('2');
    expect(toColumnValue(9007199254740993n, INT8, TEXT)).toBe('9007199254740993');
    expect(toColumnValue('2.50', NUMERIC, TEXT)).toBe('2.50');
    expect(toColumnValue('Ab ', TEXT, TEXT)).toBe('Ab ');
    expect(toColumnValue(Buffer.from('ab'), BYTEA, TEXT)).toBe('ab');
    expect(toColumnValue(Buffer.from([0xff]), BYTEA, TEXT)).toBeUndefined();
  });

  it('to decimal, uuid and bytes', () => {
    expect(toColumnValue('2.5', TEXT, NUMERIC)).toBe('2.5');
    expect(toColumnValue('2.50', TEXT, NUMERIC)).toBeUndefined();
    expect(toColumnValue('2.50', NUMERIC, NUMERIC)).toBe('2.50');
    expect(toColumnValue(2.5, FLOAT8, NUMERIC)).toBe(2.5);
    expect(toColumnValue(`1${'0'.repeat(400)}`, TEXT, FLOAT8)).toBeUndefined();
    const id = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
    expect(toColumnValue(id.toUpperCase(), TEXT, UUID)).toBe(id);
    expect(toColumnValue(`{${id}}`, TEXT, UUID)).toBeUndefined();
    expect(toColumnValue('n/a', TEXT, UUID)).toBeUndefined();
    expect(toColumnValue(7, INT4, UUID)).toBeUndefined();
    expect(toColumnValue('ab', TEXT, BYTEA)).toEqual(Buffer.from('ab'));
    expect(toColumnValue(Buffer.from([0xff]), BYTEA, BYTEA)).toEqual(Buffer.from([0xff]));
  });

  it('another type: its own values as they are, others as text compared with the column text', () => {
    const day = '2024-05-01';
    expect(toColumnValue(day, DATE, DATE)).toBe(day);
    expect(comparison(DATE, DATE)).toBe('other');
    expect(toColumnValue('not a date', TEXT, DATE)).toBe('not a date');
    expect(comparison(TEXT, DATE)).toBe('as-text');
    expect(toColumnValue(true, postgresColumnType('boolean', 'bool'), TEXT)).toBeUndefined();
  });

  it('SQLite columns without affinity take values as they are; NULL is nothing', () => {
    const none = sqliteColumnType('');
    expect(toColumnValue('02', TEXT, none)).toBe('02');
    expect(toColumnValue(null, TEXT, INT4)).toBeUndefined();
    expect(toColumnValues(['1', '01', '1', 'x', 1], REQUEST_TEXT, INT4)).toEqual([1]);
  });
});

describe('column types from the catalogs', () => {
  it('maps PostgreSQL, MySQL/MariaDB and SQLite declarations to kinds', () => {
    expect(postgresColumnType('smallint', 'int2')).toMatchObject({
      kind: 'integer',
      min: -32768n,
      max: 32767n,
    });
    expect(postgresColumnType('character varying', 'varchar').kind).toBe('text');
    expect(postgresColumnType('USER-DEFINED', 'citext').kind).toBe('text');
    expect(postgresColumnType('USER-DEFINED', 'mood')).toEqual({ kind: 'other', declared: 'mood' });
    expect(mysqlColumnType('tinyint', 'tinyint(3) unsigned')).toMatchObject({ min: 0n, max: 255n });
    expect(mysqlColumnType('varchar', 'varchar(255)').kind).toBe('text');
    expect(mysqlColumnType('enum', "enum('a','b')").kind).toBe('text');
    expect(mysqlColumnType('varbinary', 'varbinary(16)').kind).toBe('binary');
    expect(mysqlColumnType('uuid', 'uuid').kind).toBe('uuid');
    expect(mysqlColumnType('datetime', 'datetime').kind).toBe('other');
    // SQLite's affinity rules, in their order: INT wins over CHAR ("CHARINT"), FLOATING POINT is INT.
    expect(sqliteColumnType('CHARINT').kind).toBe('integer');
    expect(sqliteColumnType('FLOATING POINT').kind).toBe('integer');
    expect(sqliteColumnType('varchar(20)').kind).toBe('text');
    expect(sqliteColumnType('blob').kind).toBe('any');
    expect(sqliteColumnType('').kind).toBe('any');
    expect(sqliteColumnType('double')).toMatchObject({ kind: 'decimal', float: true });
    expect(sqliteColumnType('decimal(10,2)').kind).toBe('decimal');
  });
});
