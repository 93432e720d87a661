import { describe, expect, it } from 'vitest';
import { AppError } from '../../lib/app-error.js';
import { DEFAULT_DISCOVERY_NAMES, discoveryNames, type DiscoveryNamesOptions } from './discovery-names.js';
import { dataMapSelector } from './prometheus-api.js';
import { dedupeObservations, kindOf, observationOf } from './series-observation.js';

const names = discoveryNames();

function configError(options: DiscoveryNamesOptions): AppError {
  try {
    discoveryNames(options);
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error(`discoveryNames(${JSON.stringify(options)}) did not throw`);
}

describe('discoveryNames', () => {
  it('defaults to transmit, store and client with the SDK label names', () => {
    expect(discoveryNames()).toEqual(DEFAULT_DISCOVERY_NAMES);
    expect(DEFAULT_DISCOVERY_NAMES.labels).toEqual({
      team: 'team',
      service: 'service',
      toService: 'to_service',
      dataType: 'data_type',
      address: 'address',
      protocol: 'protocol',
    });
  });

  it('prepends the prefix to the default metric names only', () => {
    const prefixed = discoveryNames({ prefix: 'privacy_', metrics: { client: 'endpoints' } });
    expect(prefixed.metrics).toEqual({
      transmit: 'privacy_transmit',
      store: 'privacy_store',
      client: 'endpoints',
    });
    expect(prefixed.labels).toEqual(DEFAULT_DISCOVERY_NAMES.labels);
    expect(discoveryNames({ prefix: 'ns:' }).metrics.store).toBe('ns:store');
  });

  it('takes label overrides and ignores undefined ones', () => {
    const custom = discoveryNames({ labels: { toService: 'dst_service', team: undefined } });
    expect(custom.labels.toService).toBe('dst_service');
    expect(custom.labels.team).toBe('team');
  });

  it.each<[string, DiscoveryNamesOptions, RegExp]>([
    ['a prefix starting with a digit', { prefix: '1x_' }, /prefix "1x_"/],
    ['a prefix with a dash', { prefix: 'my-' }, /prefix "my-"/],
    ['an empty metric name', { metrics: { store: '' } }, /store metric name ""/],
    ['a metric name with a dot', { metrics: { transmit: 'data.transmit' } }, /transmit metric name/],
    ['a label name with a colon', { labels: { team: 'te:am' } }, /team label name "te:am"/],
    ['a label name starting with a digit', { labels: { protocol: '0proto' } }, /protocol label name/],
    ['a reserved label name', { labels: { service: '__name__' } }, /reserved/],
    ['two kinds sharing a metric name', { metrics: { store: 'transmit' } }, /transmit and store/],
    ['a name colliding through _total', { metrics: { client: 'transmit_total' } }, /collide/],
    ['two labels of one kind sharing a name', { labels: { toService: 'service' } }, /service and toService/],
  ])('rejects %s with DISCOVERY_CONFIG_INVALID', (_what, options, message) => {
    const error = configError(options);
    expect(error.code).toBe('DISCOVERY_CONFIG_INVALID');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(message);
  });

  it('allows one label name for roles of different kinds', () => {
    expect(() => discoveryNames({ labels: { address: 'service' } })).not.toThrow();
  });
});

describe('observationOf', () => {
  const transmit = { team: 'growth', service: 'newsletter', to_service: 'mailer', data_type: 'user.email' };

  it('maps transmit, store and client series', () => {
    expect(observationOf('transmit', transmit, names)).toEqual({
      kind: 'transmit',
      team: 'growth',
      system: 'newsletter',
      target: 'mailer',
      dataType: 'user.email',
      protocol: '',
    });
    expect(observationOf('store', { team: 'growth', service: 'crm', data_type: 'user.name' }, names)).toEqual(
      { kind: 'store', team: 'growth', system: 'crm', target: '', dataType: 'user.name', protocol: '' },
    );
    expect(
      observationOf('client', { team: 'growth', address: 'https://crm.example', protocol: 'https' }, names),
    ).toEqual({
      kind: 'client',
      team: 'growth',
      system: '',
      target: 'https://crm.example',
      dataType: '',
      protocol: 'https',
    });
  });

  it('accepts the counter suffix and ignores _created and other suffixes', () => {
    expect(observationOf('transmit_total', transmit, names)?.kind).toBe('transmit');
    expect(observationOf('store_total', { service: 'crm', data_type: 'x' }, names)?.kind).toBe('store');
    expect(observationOf('transmit_created', transmit, names)).toBeUndefined();
    expect(observationOf('transmit_bucket', transmit, names)).toBeUndefined();
    expect(observationOf('transmitted', transmit, names)).toBeUndefined();
    expect(observationOf('up', transmit, names)).toBeUndefined();
  });

  it('ignores labels other than its own, such as job and instance', () => {
    const withTargetLabels = { ...transmit, job: 'node', instance: '10.0.0.1:9100', protocol: 'grpc' };
    expect(observationOf('transmit', withTargetLabels, names)).toEqual(
      observationOf('transmit', transmit, names),
    );
  });

  it('returns undefined when a required label is missing or empty', () => {
    for (const label of ['service', 'to_service', 'data_type']) {
      const rest = Object.fromEntries(Object.entries(transmit).filter(([name]) => name !== label));
      expect(observationOf('transmit', rest, names), label).toBeUndefined();
      expect(observationOf('transmit', { ...transmit, [label]: '' }, names), label).toBeUndefined();
    }
    expect(observationOf('store', { team: 't', data_type: 'x' }, names)).toBeUndefined();
    expect(observationOf('store', { team: 't', service: 'crm' }, names)).toBeUndefined();
    expect(observationOf('client', { team: 't', protocol: 'https' }, names)).toBeUndefined();
  });

  it('lets team, and a client protocol, be absent', () => {
    expect(observationOf('store', { service: 'crm', data_type: 'x' }, names)?.team).toBe('');
    expect(observationOf('client', { address: 'db:5432' }, names)).toEqual({
      kind: 'client',
      team: '',
      system: '',
      target: 'db:5432',
      dataType: '',
      protocol: '',
    });
  });

  it('reads configured metric and label names', () => {
    const custom = discoveryNames({ prefix: 'privacy_', labels: { toService: 'dst', dataType: 'kind' } });
    const labels = { service: 'a', dst: 'b', kind: 'user.email' };
    expect(observationOf('privacy_transmit_total', labels, custom)).toMatchObject({ target: 'b' });
    expect(observationOf('transmit', labels, custom)).toBeUndefined();
    expect(observationOf('privacy_transmit', transmit, custom)).toBeUndefined();
  });

  it('does not read label names from the prototype', () => {
    const custom = discoveryNames({ labels: { team: 'constructor' } });
    expect(observationOf('store', { service: 'crm', data_type: 'x' }, custom)?.team).toBe('');
  });

  it('kindOf names the kind', () => {
    expect(kindOf('client_total', names)).toBe('client');
    expect(kindOf('client_info', names)).toBeUndefined();
  });
});

describe('dedupeObservations', () => {
  it('keeps one of each distinct observation, in first-seen order', () => {
    const a = { kind: 'store', team: 't', system: 's', target: '', dataType: 'x', protocol: '' } as const;
    const b = { ...a, dataType: 'y' };
    const c = { ...a, team: '' };
    expect(dedupeObservations([a, b, { ...a }, c, { ...b }])).toEqual([a, b, c]);
    expect(dedupeObservations([])).toEqual([]);
  });

  it('does not confuse fields whose values contain separators', () => {
    const a = { kind: 'client', team: 'a|b', system: '', target: 'c', dataType: '', protocol: '' } as const;
    const b = { ...a, team: 'a', target: 'b|c' };
    expect(dedupeObservations([a, b])).toHaveLength(2);
  });
});

describe('dataMapSelector', () => {
  it('selects every kind with and without the counter suffix', () => {
    expect(dataMapSelector(discoveryNames({ prefix: 'p_' }))).toBe(
      '{__name__=~"p_transmit|p_transmit_total|p_store|p_store_total|p_client|p_client_total"}',
    );
  });
});
