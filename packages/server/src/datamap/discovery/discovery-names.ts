import { AppError } from '../../lib/app-error.js';

/**
 * The metric and label names discovery reads. Teams may already use other names (a prefix such as
 * `privacy_transmit`, or `dst_service` for `to_service`), so every name is configurable; the
 * defaults are the ones the Lethe SDK's `declareDataMapMetrics` writes.
 */
export interface DiscoveryNames {
  readonly metrics: {
    readonly transmit: string;
    readonly store: string;
    readonly client: string;
  };
  readonly labels: {
    readonly team: string;
    readonly service: string;
    readonly toService: string;
    readonly dataType: string;
    readonly address: string;
    readonly protocol: string;
  };
}

export interface DiscoveryNamesOptions {
  /** Prepended to the default metric names only: `privacy_` gives `privacy_transmit`. */
  readonly prefix?: string;
  /** Replaces metric names outright; the prefix is not applied to these. */
  readonly metrics?: Partial<DiscoveryNames['metrics']>;
  readonly labels?: Partial<DiscoveryNames['labels']>;
}

export const DEFAULT_DISCOVERY_NAMES: DiscoveryNames = {
  metrics: { transmit: 'transmit', store: 'store', client: 'client' },
  labels: {
    team: 'team',
    service: 'service',
    toService: 'to_service',
    dataType: 'data_type',
    address: 'address',
    protocol: 'protocol',
  },
};

/** Prometheus' own syntax (without the UTF-8 names of Prometheus 3, which need quoting in PromQL). */
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** A counter named `transmit` is exposed, and stored by Prometheus, as `transmit_total`. */
export const COUNTER_SUFFIX = '_total';

/**
 * The names discovery uses: the defaults, with the prefix and overrides applied, validated.
 * Throws `AppError('DISCOVERY_CONFIG_INVALID')` on a name Prometheus would not accept, on a label
 * name reserved by Prometheus (`__…`), and on names that would make two series indistinguishable.
 *
 * @example discoveryNames({ prefix: 'privacy_' }).metrics.transmit // 'privacy_transmit'
 */
export function discoveryNames(options: DiscoveryNamesOptions = {}): DiscoveryNames {
  const prefix = options.prefix ?? '';
  if (prefix !== '' && !METRIC_NAME.test(prefix)) {
    invalid(
      `The metric name prefix "${prefix}" may hold letters, digits, "_" and ":" only, not first a digit.`,
    );
  }
  const metrics = {
    transmit: options.metrics?.transmit ?? prefix + DEFAULT_DISCOVERY_NAMES.metrics.transmit,
    store: options.metrics?.store ?? prefix + DEFAULT_DISCOVERY_NAMES.metrics.store,
    client: options.metrics?.client ?? prefix + DEFAULT_DISCOVERY_NAMES.metrics.client,
  };
  const labels = { ...DEFAULT_DISCOVERY_NAMES.labels, ...definedOnly(options.labels ?? {}) };

  for (const [kind, name] of Object.entries(metrics)) {
    if (typeof name !== 'string' || !METRIC_NAME.test(name)) {
      invalid(`The ${kind} metric name "${String(name)}" is not a valid Prometheus metric name.`);
    }
  }
  // Each kind is matched with and without the counter suffix; no two kinds may share a spelling.
  const spellings = new Map<string, string>();
  for (const [kind, name] of Object.entries(metrics)) {
    for (const spelling of [name, name + COUNTER_SUFFIX]) {
      const other = spellings.get(spelling);
      if (other !== undefined && other !== kind) {
        invalid(`The ${other} and ${kind} metric names collide (both match "${spelling}").`);
      }
      spellings.set(spelling, kind);
    }
  }

  for (const [role, name] of Object.entries(labels)) {
    if (typeof name !== 'string' || !LABEL_NAME.test(name)) {
      invalid(`The ${role} label name "${String(name)}" is not a valid Prometheus label name.`);
    }
    if (name.startsWith('__')) {
      invalid(`The ${role} label name "${name}" is reserved: names starting with "__" are Prometheus' own.`);
    }
  }
  const perKind: Readonly<Record<string, readonly (keyof DiscoveryNames['labels'])[]>> = {
    transmit: ['team', 'service', 'toService', 'dataType'],
    store: ['team', 'service', 'dataType'],
    client: ['team', 'address', 'protocol'],
  };
  for (const [kind, roles] of Object.entries(perKind)) {
    const seen = new Map<string, string>();
    for (const role of roles) {
      const other = seen.get(labels[role]);
      if (other !== undefined) {
        invalid(`The ${other} and ${role} labels of ${kind} series are both named "${labels[role]}".`);
      }
      seen.set(labels[role], role);
    }
  }
  return { metrics, labels };
}

function definedOnly<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function invalid(message: string): never {
  throw new AppError('DISCOVERY_CONFIG_INVALID', message);
}
