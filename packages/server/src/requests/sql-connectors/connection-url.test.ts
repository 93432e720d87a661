import { describe, expect, it } from 'vitest';
import { checkConnectionUrl, redactUrl, scrubPassword, sqlitePath } from './connection-url.js';
import { SqlConnectorError } from './sql-connector-error.js';

describe('connection strings', () => {
  it('accepts each database its own scheme only', () => {
    expect(() => checkConnectionUrl('postgres', 'postgresql://u@h/db')).not.toThrow();
    expect(() => checkConnectionUrl('mysql', 'mysql://root@127.0.0.1:3306/db')).not.toThrow();
    expect(() => checkConnectionUrl('sqlite', 'sqlite:/var/lib/app.db')).not.toThrow();
    expect(() => checkConnectionUrl('mysql', 'postgres://u@h/db')).toThrow(SqlConnectorError);
    expect(() => checkConnectionUrl('sqlite', '/var/lib/app.db')).toThrow(/must start with sqlite:/);
  });

  it('reads SQLite paths: absolute, relative, and the triple-slash URL form', () => {
    expect(sqlitePath('sqlite:/var/lib/app.db')).toBe('/var/lib/app.db');
    expect(sqlitePath('sqlite:data/app.db')).toBe('data/app.db');
    expect(sqlitePath('sqlite:///var/lib/app.db')).toBe('/var/lib/app.db');
  });

  it('hides the password, raw or percent-decoded', () => {
    expect(redactUrl('postgres://lethe:p%40ss@db:5432/x')).toBe('postgres://lethe:***@db:5432/x');
    expect(redactUrl('mysql://root@db/x')).toBe('mysql://root@db/x');
    expect(scrubPassword('auth failed for p@ss and p%40ss', 'postgres://lethe:p%40ss@db/x')).toBe(
      'auth failed for *** and ***',
    );
  });
});
