import { describe, expect, it } from 'vitest';
import { DataMapIndex } from './datamap-graph.js';
import { Taxonomy } from '../../lib/taxonomy.js';
import { chain, observation, snapshot, system } from '../../../test/support/datamap-snapshots.js';

const categories = Taxonomy.dataCategories();

describe('DataMapIndex.holders', () => {
  it('finds storing systems and, transitively over covered flows, the systems that receive', () => {
    const holders = DataMapIndex.build(chain(), categories).holders('user.contact');
    expect(holders).toEqual([
      { system: 'a', team: 't', how: 'stores', categories: ['user.contact.email'], via: ['a'] },
      {
        system: 'b',
        team: 't',
        how: 'receives',
        categories: ['user.contact.email', 'user.contact.phone_number'],
        via: ['a', 'b'],
      },
      { system: 'c', team: 't', how: 'receives', categories: ['user.contact.email'], via: ['a', 'b', 'c'] },
      {
        system: 'd',
        team: 't',
        how: 'receives',
        categories: ['user.contact.phone_number'],
        via: ['a', 'b', 'd'],
      },
      {
        system: 'e',
        team: 't',
        how: 'receives',
        categories: ['user.contact.email'],
        via: ['a', 'b', 'c', 'e'],
      },
      { system: 'f', team: 't', how: 'sends', categories: ['user.contact.email'], via: ['f'] },
      { system: 'g', team: 't', how: 'receives', categories: ['user.contact.email'], via: ['f', 'g'] },
    ]);
  });

  it('takes the shortest path and starts an unreached cycle at its first member', () => {
    const holders = DataMapIndex.build(
      snapshot({
        systems: [system('s', 't', [['user.name']])],
        flows: [
          { from: 's', to: 'p', categories: ['user.name'] },
          { from: 'p', to: 'q', categories: ['user.name'] },
          { from: 'q', to: 'r', categories: ['user.name'] },
          { from: 's', to: 'r', categories: ['user.name'] },
          { from: 'y', to: 'z', categories: ['user.name'] },
          { from: 'z', to: 'y', categories: ['user.name'] },
        ],
      }),
      categories,
    ).holders('user.name');
    expect(holders.map((holder) => [holder.system, holder.how, holder.via.join('>')])).toEqual([
      ['p', 'receives', 's>p'],
      ['q', 'receives', 's>p>q'],
      ['r', 'receives', 's>r'],
      ['s', 'stores', 's'],
      ['y', 'receives', 'y'],
      ['z', 'receives', 'y>z'],
    ]);
  });

  it('includes unknown categories and stale flows only when asked', () => {
    const index = DataMapIndex.build(
      snapshot({
        observations: [
          observation({ kind: 'store', system: 'tracker', category: 'clickstream' }),
          observation({
            kind: 'transmit',
            system: 'tracker',
            target: 'ads',
            category: 'clickstream',
            stale: true,
          }),
        ],
      }),
      categories,
    );
    expect(index.holders('clickstream').map((holder) => holder.system)).toEqual(['tracker']);
    expect(index.holders('clickstream', { includeStale: true }).map((holder) => holder.system)).toEqual([
      'ads',
      'tracker',
    ]);
  });
});
