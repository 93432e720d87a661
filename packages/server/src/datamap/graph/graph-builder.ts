import type { DataMapSnapshot, Observation } from '../datamap.js';
import {
  EMPTY_WIRE,
  NO_CATEGORY,
  type EdgeEntry,
  type EdgeKind,
  type NodeEntry,
  type NodeKind,
} from './graph-entries.js';
import { DECLARED_ONLY_PART, Provenance, UNSEEN } from './graph-provenance.js';

/**
 * Collects a snapshot's declarations and observations into node and edge entries, before they are
 * ordered and frozen. Nodes are found or added by kind and name, edges by their ends.
 */
export class GraphBuilder {
  readonly #byKind: Record<NodeKind, Map<string, NodeEntry>> = {
    team: new Map(),
    system: new Map(),
    category: new Map(),
    client: new Map(),
  };
  /** In the order they were added. */
  readonly edges: EdgeEntry[] = [];
  /** The index of the part `#part` found or added last (no result object per part). */
  #at = 0;

  /** Every node, in no particular order. */
  nodes(): NodeEntry[] {
    return Object.values(this.#byKind).flatMap((map) => [...map.values()]);
  }

  /** Declarations: teams, systems with their fields, flows, then rights clients. */
  declare(snapshot: DataMapSnapshot): void {
    for (const team of snapshot.teams) {
      const entry = this.#node('team', team.name);
      entry.prov.declared = true;
      if (team.description !== undefined) entry.description = team.description;
    }
    for (const system of snapshot.systems) {
      const entry = this.#node('system', system.name);
      entry.prov.declared = true;
      entry.team = system.team;
      entry.declaredTeam = true;
      if (system.description !== undefined) entry.description = system.description;
      entry.thirdParty = system.thirdParty;
      if (system.country !== undefined) entry.country = system.country;
      const team = this.#node('team', system.team);
      team.prov.declared = true;
      this.#declarePart('owns', team, entry, NO_CATEGORY);
      for (const field of system.fields) {
        for (const key of field.categories) {
          const category = this.#node('category', key);
          category.prov.declared = true;
          this.#declarePart('store', entry, category, key);
        }
      }
    }
    for (const flow of snapshot.flows) {
      const from = this.#node('system', flow.from);
      const to = this.#node('system', flow.to);
      from.prov.declared = true;
      to.prov.declared = true;
      if (flow.categories.length === 0) this.#declarePart('transmit', from, to, NO_CATEGORY);
      for (const key of flow.categories) {
        this.#node('category', key).prov.declared = true;
        this.#declarePart('transmit', from, to, key);
      }
    }
    for (const client of snapshot.clients) {
      const entry = this.#node('client', client.address ?? client.name);
      if (!entry.prov.declared) entry.label = client.name; // the first declared client at an address names it
      entry.prov.declared = true;
      entry.protocol ??= client.protocol;
      const system = this.#byKind.system.get(client.system);
      const teamName = system?.declaredTeam ? system.team : undefined;
      if (teamName !== undefined) {
        entry.team ??= teamName;
        this.#declarePart('client', this.#node('team', teamName), entry, NO_CATEGORY);
      }
    }
  }

  /** Observations, after the declarations (a declared team is not overridden by observed ones). */
  observe(observations: readonly Observation[]): void {
    for (const observation of observations) {
      const { kind, team: teamName, system: systemName, target, category: key } = observation;
      if (kind === 'client') {
        if (target === '') continue;
        const entry = this.#node('client', target);
        entry.prov.observe(observation);
        if (!entry.protocol && observation.protocol) entry.protocol = observation.protocol;
        if (teamName !== '') {
          const team = this.#node('team', teamName);
          team.prov.observe(observation);
          entry.team ??= teamName;
          this.#observePart('client', team, entry, NO_CATEGORY, observation);
        }
        continue;
      }
      if (systemName === '' || (kind === 'transmit' && target === '')) continue;
      const system = this.#node('system', systemName);
      system.prov.observe(observation);
      if (teamName !== '') {
        const team = this.#node('team', teamName);
        team.prov.observe(observation);
        if (!system.declaredTeam && (system.team === undefined || teamName < system.team))
          system.team = teamName;
        this.#observePart('owns', team, system, NO_CATEGORY, observation);
      }
      if (key !== '') this.#node('category', key).prov.observe(observation);
      if (kind === 'transmit') {
        const to = this.#node('system', target);
        to.prov.observe(observation);
        this.#observePart('transmit', system, to, key, observation);
      } else if (key !== '') {
        this.#observePart('store', system, this.#node('category', key), key, observation);
      }
    }
  }

  #node(kind: NodeKind, name: string): NodeEntry {
    let entry = this.#byKind[kind].get(name);
    if (!entry) {
      entry = {
        id: `${kind}:${name}`,
        kind,
        name,
        prov: new Provenance(),
        label: name,
        declaredTeam: false,
        team: undefined,
        description: undefined,
        thirdParty: undefined,
        country: undefined,
        protocol: undefined,
        order: 0,
        stale: false,
        wire: EMPTY_WIRE,
        edges: [],
        out: undefined,
        sends: [],
      };
      this.#byKind[kind].set(name, entry);
    }
    return entry;
  }

  // The edge kind follows from the ends: team→system owns, team→client client,
  // system→category store, system→system transmit.
  /** Finds or adds the edge and its part for `key`, and leaves the part's index in `#at`. */
  #part(kind: EdgeKind, from: NodeEntry, to: NodeEntry, key: string): EdgeEntry {
    from.out ??= new Map();
    let entry = from.out.get(to);
    if (!entry) {
      entry = {
        kind,
        from,
        to,
        keys: [],
        provs: [],
        freshKeys: 0,
        order: 0,
        full: EMPTY_WIRE,
        fresh: undefined,
      };
      from.out.set(to, entry);
      this.edges.push(entry);
    }
    let index = entry.keys.indexOf(key);
    if (index === -1) {
      index = entry.keys.length;
      entry.keys.push(key);
      entry.provs.push(UNSEEN);
    }
    this.#at = index;
    return entry;
  }

  /** Most parts are only declared: they share one provenance until observed. */
  #declarePart(kind: EdgeKind, from: NodeEntry, to: NodeEntry, key: string): void {
    const entry = this.#part(kind, from, to, key);
    const prov = entry.provs[this.#at] as Provenance;
    if (prov === UNSEEN) entry.provs[this.#at] = DECLARED_ONLY_PART;
    else prov.declared = true;
  }

  #observePart(kind: EdgeKind, from: NodeEntry, to: NodeEntry, key: string, observation: Observation): void {
    const entry = this.#part(kind, from, to, key);
    let prov = entry.provs[this.#at] as Provenance;
    if (prov === UNSEEN || prov === DECLARED_ONLY_PART) {
      const own = new Provenance();
      own.declared = prov.declared;
      entry.provs[this.#at] = prov = own;
    }
    prov.observe(observation);
  }
}
