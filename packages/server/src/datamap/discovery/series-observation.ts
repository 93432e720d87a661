import type { ObservationKind, SeriesObservation } from '../datamap.js';
import { COUNTER_SUFFIX, type DiscoveryNames } from './discovery-names.js';

/**
 * Maps one series — a metric name and its labels, from a Prometheus query result or a scraped
 * exposition — to what it says about the data map; undefined when it says nothing.
 *
 * The name may carry the counter suffix (`transmit_total`: a counter in OpenMetrics, or as
 * Prometheus stores any counter scraped from OpenMetrics). `_created` series, and any other
 * suffix, are not observations. A series missing a label its kind needs returns undefined:
 * transmit needs service, to_service and data_type; store needs service and data_type; client
 * needs address. `team` and a client's `protocol` may be absent (`''`). Prometheus treats an
 * empty label value as an absent label, and so does this. The sample value is ignored: the
 * series being there is the observation.
 */
export function observationOf(
  metricName: string,
  labels: Readonly<Record<string, string>>,
  names: DiscoveryNames,
): SeriesObservation | undefined {
  const kind = kindOf(metricName, names);
  if (kind === undefined) return undefined;
  const label = (role: keyof DiscoveryNames['labels']): string => {
    const name = names.labels[role];
    const value = Object.hasOwn(labels, name) ? labels[name] : undefined;
    return typeof value === 'string' ? value : '';
  };
  const team = label('team');
  switch (kind) {
    case 'transmit': {
      const system = label('service');
      const target = label('toService');
      const dataType = label('dataType');
      if (system === '' || target === '' || dataType === '') return undefined;
      return { kind, team, system, target, dataType, protocol: '' };
    }
    case 'store': {
      const system = label('service');
      const dataType = label('dataType');
      if (system === '' || dataType === '') return undefined;
      return { kind, team, system, target: '', dataType, protocol: '' };
    }
    case 'client': {
      const target = label('address');
      if (target === '') return undefined;
      return { kind, team, system: '', target, dataType: '', protocol: label('protocol') };
    }
  }
}

/** The kind a metric name stands for, with or without the counter suffix. */
export function kindOf(metricName: string, names: DiscoveryNames): ObservationKind | undefined {
  const kinds: readonly ObservationKind[] = ['transmit', 'store', 'client'];
  for (const kind of kinds) {
    const name = names.metrics[kind];
    if (metricName === name || metricName === name + COUNTER_SUFFIX) return kind;
  }
  return undefined;
}

/**
 * One entry per distinct observation (all six fields equal), in the order first seen. Prometheus
 * adds `job` and `instance` labels, so two replicas of a service report the same observation twice.
 */
export function dedupeObservations(list: readonly SeriesObservation[]): SeriesObservation[] {
  const seen = new Set<string>();
  const unique: SeriesObservation[] = [];
  for (const observation of list) {
    const key = JSON.stringify([
      observation.kind,
      observation.team,
      observation.system,
      observation.target,
      observation.dataType,
      observation.protocol,
    ]);
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(observation);
  }
  return unique;
}
