import { Gauge, type Registry, type RegistryContentType } from 'prom-client';

/**
 * Declares a service's part of the data map as Prometheus gauges, for Lethe's Prometheus
 * discovery to find: one series of value 1 per fact.
 *
 *   transmit{team, service, to_service, data_type}  the service sends data_type to to_service
 *   store{team, service, data_type}                 the service stores data_type
 *   client{team, address, protocol}                 the team's services are reached at address
 *
 * Import it from `@lethe/client/prometheus`; `prom-client` is an optional peer dependency, needed
 * only here. The main entry `@lethe/client` does not load it.
 */

export interface DataMapDeclaration {
  readonly team: string;
  readonly service: string;
  readonly transmits?: readonly { readonly to: string; readonly dataTypes: readonly string[] }[];
  /** Data types the service stores. */
  readonly stores?: readonly string[];
  readonly clients?: readonly { readonly address: string; readonly protocol: string }[];
}

export interface DataMapMetricsOptions {
  /** Prepended to the metric names: `privacy_` gives `privacy_transmit`; configure Lethe to match. */
  readonly prefix?: string;
}

/** Changes the declared series at runtime; a removed series disappears from the next scrape. */
export interface DataMapMetrics {
  addTransmit(to: string, dataTypes: readonly string[]): void;
  /** Without `dataTypes`, removes every data type sent to `to`. */
  removeTransmit(to: string, dataTypes?: readonly string[]): void;
  addStore(dataType: string): void;
  removeStore(dataType: string): void;
  addClient(address: string, protocol: string): void;
  removeClient(address: string, protocol: string): void;
  /** The gauges, as registered (shared with other declarations on the same registry). */
  readonly gauges: { readonly transmit: Gauge; readonly store: Gauge; readonly client: Gauge };
}

const TRANSMIT_LABELS = ['team', 'service', 'to_service', 'data_type'] as const;
const STORE_LABELS = ['team', 'service', 'data_type'] as const;
const CLIENT_LABELS = ['team', 'address', 'protocol'] as const;

/**
 * Registers the `transmit`, `store` and `client` gauges on `registry` (or reuses them when an
 * earlier declaration on the same registry did, so one process may declare several services) and
 * sets one series per declared fact. Label values must not be empty: Prometheus drops empty
 * labels, and Lethe ignores a series without the labels its kind needs.
 *
 * @example
 * const metrics = declareDataMapMetrics(register, {
 *   team: 'growth', service: 'newsletter',
 *   transmits: [{ to: 'mailer', dataTypes: ['user.contact.email'] }],
 *   stores: ['user.contact.email'],
 * });
 * metrics.removeTransmit('mailer'); // stops sending to mailer
 */
export function declareDataMapMetrics(
  registry: Registry<RegistryContentType>,
  declaration: DataMapDeclaration,
  options: DataMapMetricsOptions = {},
): DataMapMetrics {
  const prefix = options.prefix ?? '';
  const { team, service } = declaration;
  if (typeof team !== 'string') throw new TypeError('declareDataMapMetrics: team must be a string.');
  nonEmpty('service', service);
  const gauges = {
    transmit: gaugeOn(
      registry,
      prefix + 'transmit',
      'Data this service transmits to another service (1 per to_service and data_type).',
      TRANSMIT_LABELS,
    ),
    store: gaugeOn(registry, prefix + 'store', 'Data this service stores (1 per data_type).', STORE_LABELS),
    client: gaugeOn(
      registry,
      prefix + 'client',
      "Addresses at which this team's services are reached (1 per address and protocol).",
      CLIENT_LABELS,
    ),
  };
  const transmits = new Map<string, Set<string>>();

  const metrics: DataMapMetrics = {
    gauges,
    addTransmit(to, dataTypes) {
      nonEmpty('to', to);
      for (const dataType of dataTypes) {
        nonEmpty('data type', dataType);
        gauges.transmit.set({ team, service, to_service: to, data_type: dataType }, 1);
        const sent = transmits.get(to) ?? new Set<string>();
        sent.add(dataType);
        transmits.set(to, sent);
      }
    },
    removeTransmit(to, dataTypes) {
      const sent = transmits.get(to);
      for (const dataType of dataTypes ?? [...(sent ?? [])]) {
        gauges.transmit.remove({ team, service, to_service: to, data_type: dataType });
        sent?.delete(dataType);
      }
      if (sent?.size === 0) transmits.delete(to);
    },
    addStore(dataType) {
      nonEmpty('data type', dataType);
      gauges.store.set({ team, service, data_type: dataType }, 1);
    },
    removeStore(dataType) {
      gauges.store.remove({ team, service, data_type: dataType });
    },
    addClient(address, protocol) {
      nonEmpty('address', address);
      nonEmpty('protocol', protocol);
      gauges.client.set({ team, address, protocol }, 1);
    },
    removeClient(address, protocol) {
      gauges.client.remove({ team, address, protocol });
    },
  };

  for (const { to, dataTypes } of declaration.transmits ?? []) metrics.addTransmit(to, dataTypes);
  for (const dataType of declaration.stores ?? []) metrics.addStore(dataType);
  for (const { address, protocol } of declaration.clients ?? []) metrics.addClient(address, protocol);
  return metrics;
}

function gaugeOn(
  registry: Registry<RegistryContentType>,
  name: string,
  help: string,
  labelNames: readonly string[],
): Gauge {
  const existing = registry.getSingleMetric(name);
  if (existing === undefined) return new Gauge({ name, help, labelNames, registers: [registry] });
  if (!(existing instanceof Gauge)) {
    throw new TypeError(
      `declareDataMapMetrics: the registry already holds a metric ${name} that is not a gauge.`,
    );
  }
  return existing;
}

function nonEmpty(what: string, value: unknown): void {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`declareDataMapMetrics: ${what} must be a non-empty string.`);
  }
}
