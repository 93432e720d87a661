import { describe, expect, it } from 'vitest';
import { contractRefOf, parseContractRef } from './contract-ref.js';

describe('contract references', () => {
  it('parses name@version', () => {
    expect(parseContractRef('clickstream@12')).toEqual({ name: 'clickstream', version: 12 });
    expect(parseContractRef('clickstream@0')).toBeUndefined();
    expect(parseContractRef('clickstream@v1')).toBeUndefined();
    expect(parseContractRef('@1')).toBeUndefined();
    expect(contractRefOf({ contract: 'a.b-c@3' })).toEqual({ name: 'a.b-c', version: 3 });
    expect(contractRefOf({ contract: 3 })).toBeUndefined();
  });
});
