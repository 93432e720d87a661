import { describe, expect, it } from 'vitest';
import { DataMapIndex } from './datamap-graph.js';
import { Taxonomy } from '../../lib/taxonomy.js';
import { chain } from '../../../test/support/datamap-snapshots.js';

const categories = Taxonomy.dataCategories();

describe('DataMapIndex.destinations', () => {
  it('follows covered flows transitively with shortest paths, safe on cycles', () => {
    const index = DataMapIndex.build(chain(), categories);
    expect(index.destinations('a', 'user.contact')).toEqual([
      { system: 'b', team: 't', path: ['a', 'b'], depth: 1, categories: ['user.contact.email'] },
      { system: 'c', team: 't', path: ['a', 'b', 'c'], depth: 2, categories: ['user.contact.email'] },
      { system: 'd', team: 't', path: ['a', 'b', 'd'], depth: 2, categories: ['user.contact.phone_number'] },
      { system: 'e', team: 't', path: ['a', 'b', 'c', 'e'], depth: 3, categories: ['user.contact.email'] },
    ]);
    expect(
      index.destinations('a')?.map((destination) => [destination.system, destination.path.join('>')]),
    ).toEqual([
      ['b', 'a>b'],
      ['e', 'a>e'],
      ['c', 'a>b>c'],
      ['d', 'a>b>d'],
      ['h', 'a>e>h'],
    ]);
    expect(index.destinations('a', 'user.name')?.map((destination) => destination.system)).toEqual([
      'e',
      'h',
    ]);
    expect(index.destinations('h')).toEqual([]);
    expect(index.destinations('nowhere')).toBeUndefined();
  });
});
