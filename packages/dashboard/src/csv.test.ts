import { describe, expect, it } from 'vitest';
import { ndjsonToCsv } from './csv.js';

describe('ndjsonToCsv', () => {
  it('writes the header and one row per line, in the feed’s column order', () => {
    const ndjson =
      '{"subject":"u-1","field":"accounts.email","expiresAt":"2025-01-05T10:00:00.000Z","policy":"p","system":"accounts","status":"due"}\n' +
      '{"subject":"u-2","field":"orders.items","expiresAt":"2025-02-01T00:00:00.000Z","policy":"q","system":"orders","status":"held","hold":"case-7"}\n';
    expect(ndjsonToCsv(ndjson)).toBe(
      'expiresAt,subject,field,policy,system,status,hold\r\n' +
        '2025-01-05T10:00:00.000Z,u-1,accounts.email,p,accounts,due,\r\n' +
        '2025-02-01T00:00:00.000Z,u-2,orders.items,q,orders,held,case-7\r\n',
    );
  });

  it('quotes cells with commas, quotes and line breaks (RFC 4180), and skips blank lines', () => {
    const ndjson = '\n{"subject":"a,b","field":"say \\"hi\\"","expiresAt":"x","policy":"line\\nbreak"}\n\n';
    expect(ndjsonToCsv(ndjson).split('\r\n')[1]).toBe('x,"a,b","say ""hi""","line\nbreak",,,');
  });

  it('is only the header for an empty feed', () => {
    expect(ndjsonToCsv('')).toBe('expiresAt,subject,field,policy,system,status,hold\r\n');
  });
});
