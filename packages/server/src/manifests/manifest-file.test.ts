import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest-file.js';

describe('parseManifest: contracts', () => {
  it('reads contract versions, and names a misspelled key by its line and path', () => {
    const parsed = parseManifest(
      'streams.yaml',
      `contracts:
  - name: clickstream
    version: 1
    schema:
      type: object
      required: [sessionId]
      properties:
        sessionId: { type: string }
    keyLink: sessionId
    subject: sessionId
    personal: []
    keyRetention: P90D
`,
    );
    expect(parsed.manifest.contracts).toMatchObject([
      { name: 'clickstream', version: 1, keyRetention: 'P90D' },
    ]);
    expect(() =>
      parseManifest('streams.yaml', 'contracts:\n  - name: clickstream\n    versoin: 1\n'),
    ).toThrow('streams.yaml:3: contracts[0].versoin: unknown property "versoin"');
  });
});
