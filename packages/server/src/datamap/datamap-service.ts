import type {
  Flow,
  FlowInput,
  Organisation,
  RightsClient,
  RightsClientInput,
  Team,
  TeamInput,
  TaxonomyExtensions,
} from '@lethe/api';
import { visibleCategories } from '../auth/category-scope.js';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { coversKey, requirePurpose, Taxonomy, type TaxonomyListing } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { FlowRow, RightsClientRow, TaxonomyEntryRow, TeamRow } from './datamap-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import { loadTaxonomies } from './datamap-snapshot.js';
import { requireCategories } from '../retention/system-service.js';

/** Whether a write changed anything: manifests report it, the API answers 201 or 200 from it. */
export interface Written<T> {
  readonly value: T;
  readonly created: boolean;
  readonly changed: boolean;
}

/**
 * The declared parts of the data map besides systems: teams, flows, rights clients, the
 * organisation (for the record of processing) and the user's taxonomy additions. Each write has
 * an `…In` form that runs inside a caller's transaction, which is how a manifest is applied as
 * one unit.
 */
export class DataMapService {
  constructor(private readonly store: Store) {}

  private write<T>(work: (repository: Repository) => Promise<T>): Promise<T> {
    return this.store.transaction(work);
  }

  // Teams -----------------------------------------------------------------------------------

  async listTeams(principal: Principal): Promise<Team[]> {
    authorize(principal, 'systems:read');
    return (await this.store.repository.datamap.listTeams()).map(teamRowToTeam);
  }

  putTeam(principal: Principal, name: string, input: TeamInput): Promise<Written<Team>> {
    return this.write((repository) => this.putTeamIn(repository, principal, name, input));
  }

  async putTeamIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: TeamInput,
  ): Promise<Written<Team>> {
    authorize(principal, 'systems:write');
    const previous = await repository.datamap.getTeam(name);
    const now = Date.now();
    const row: TeamRow = {
      name,
      description: input.description ?? null,
      contact: input.contact ?? null,
      created_at: previous?.created_at ?? now,
      updated_at: now,
    };
    if (previous && previous.description === row.description && previous.contact === row.contact) {
      return { value: teamRowToTeam(previous), created: false, changed: false };
    }
    await repository.datamap.saveTeam(row);
    await audit(repository, principal, 'team.put', `team:${name}`);
    return { value: teamRowToTeam(row), created: !previous, changed: true };
  }

  removeTeam(principal: Principal, name: string): Promise<void> {
    return this.write((repository) => this.removeTeamIn(repository, principal, name));
  }

  async removeTeamIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'systems:write');
    const owned = await repository.datamap.systemsOfTeam(name);
    if (owned.length) {
      throw new AppError(
        'TEAM_OWNS_SYSTEMS',
        `Team "${name}" still owns ${owned.map((s) => `"${s}"`).join(', ')}.`,
      );
    }
    if (!(await repository.datamap.deleteTeam(name))) {
      throw new AppError('TEAM_NOT_FOUND', `No team named "${name}".`);
    }
    await audit(repository, principal, 'team.delete', `team:${name}`);
  }

  // Flows -----------------------------------------------------------------------------------

  async listFlows(principal: Principal): Promise<Flow[]> {
    authorize(principal, 'systems:read');
    // As in the graph: a category-limited token sees a flow for the categories it may see, or not at all.
    return (await this.store.repository.datamap.listFlows()).map(flowRowToFlow).flatMap((flow) => {
      const categories = visibleCategories(principal, flow.categories);
      return categories.length ? [{ ...flow, categories }] : [];
    });
  }

  putFlow(principal: Principal, from: string, to: string, input: FlowInput): Promise<Written<Flow>> {
    return this.write((repository) => this.putFlowIn(repository, principal, from, to, input));
  }

  /** Both ends must be declared systems: a flow to a third party names that party as a system. */
  async putFlowIn(
    repository: Repository,
    principal: Principal,
    from: string,
    to: string,
    input: FlowInput,
  ): Promise<Written<Flow>> {
    authorize(principal, 'systems:write');
    if (from === to) throw new AppError('VALIDATION_FAILED', 'A flow joins two different systems.');
    for (const end of [from, to]) {
      if (!(await repository.retention.getSystem(end))) {
        throw new AppError('SYSTEM_NOT_FOUND', `No system named "${end}"; declare it before its flows.`);
      }
    }
    const categories = [...new Set(input.categories)].sort();
    requireCategories((await loadTaxonomies(repository)).categories, categories, `flow ${from} -> ${to}`);
    const previous = await repository.datamap.getFlow(from, to);
    const now = Date.now();
    const row: FlowRow = {
      from_system: from,
      to_system: to,
      categories: JSON.stringify(categories),
      description: input.description ?? null,
      created_at: previous?.created_at ?? now,
      updated_at: now,
    };
    if (previous && previous.categories === row.categories && previous.description === row.description) {
      return { value: flowRowToFlow(previous), created: false, changed: false };
    }
    await repository.datamap.saveFlow(row);
    await audit(repository, principal, 'flow.put', `flow:${from}->${to}`);
    return { value: flowRowToFlow(row), created: !previous, changed: true };
  }

  removeFlow(principal: Principal, from: string, to: string): Promise<void> {
    return this.write((repository) => this.removeFlowIn(repository, principal, from, to));
  }

  async removeFlowIn(repository: Repository, principal: Principal, from: string, to: string): Promise<void> {
    authorize(principal, 'systems:write');
    if (!(await repository.datamap.deleteFlow(from, to))) {
      throw new AppError('FLOW_NOT_FOUND', `No flow from "${from}" to "${to}".`);
    }
    await audit(repository, principal, 'flow.delete', `flow:${from}->${to}`);
  }

  // Rights clients --------------------------------------------------------------------------

  async listClients(principal: Principal): Promise<RightsClient[]> {
    authorize(principal, 'systems:read');
    return (await this.store.repository.datamap.listClients()).map(clientRowToClient);
  }

  putClient(principal: Principal, name: string, input: RightsClientInput): Promise<Written<RightsClient>> {
    return this.write((repository) => this.putClientIn(repository, principal, name, input));
  }

  async putClientIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: RightsClientInput,
  ): Promise<Written<RightsClient>> {
    authorize(principal, 'systems:write');
    validateClientAddress(input);
    if (!(await repository.retention.getSystem(input.system))) {
      throw new AppError('SYSTEM_NOT_FOUND', `No system named "${input.system}".`);
    }
    const previous = await repository.datamap.getClient(name);
    const now = Date.now();
    const row: RightsClientRow = {
      name,
      system: input.system,
      protocol: input.protocol,
      address: input.address ?? null,
      created_at: previous?.created_at ?? now,
      updated_at: now,
    };
    if (
      previous &&
      previous.system === row.system &&
      previous.protocol === row.protocol &&
      previous.address === row.address
    ) {
      return { value: clientRowToClient(previous), created: false, changed: false };
    }
    await repository.datamap.saveClient(row);
    await audit(repository, principal, 'client.put', `client:${name}`);
    return { value: clientRowToClient(row), created: !previous, changed: true };
  }

  removeClient(principal: Principal, name: string): Promise<void> {
    return this.write((repository) => this.removeClientIn(repository, principal, name));
  }

  async removeClientIn(repository: Repository, principal: Principal, name: string): Promise<void> {
    authorize(principal, 'systems:write');
    if (!(await repository.datamap.deleteClient(name))) {
      throw new AppError('CLIENT_NOT_FOUND', `No rights client named "${name}".`);
    }
    await audit(repository, principal, 'client.delete', `client:${name}`);
  }

  // Organisation ----------------------------------------------------------------------------

  async organisation(principal: Principal): Promise<Organisation> {
    authorize(principal, 'systems:read');
    const stored = await this.store.repository.datamap.organisation();
    if (stored === undefined) {
      throw new AppError(
        'ORGANISATION_NOT_SET',
        'No organisation yet: PUT /v1/organisation or apply a manifest.',
      );
    }
    return stored;
  }

  async putOrganisation(principal: Principal, input: Organisation): Promise<Written<Organisation>> {
    const written = await this.write((repository) => this.putOrganisationIn(repository, principal, input));
    return { ...written, value: input };
  }

  putTaxonomy(principal: Principal, input: TaxonomyExtensions): Promise<Written<TaxonomyExtensions>> {
    return this.write((repository) => this.putTaxonomyIn(repository, principal, input));
  }

  /** `undefined` removes the organisation (a pruned manifest without one). */
  async putOrganisationIn(
    repository: Repository,
    principal: Principal,
    input: Organisation | undefined,
  ): Promise<Written<Organisation | undefined>> {
    authorize(principal, 'systems:write');
    const previous = await repository.datamap.organisation();
    // Same content, same canonical JSON: the input was validated against the same schema.
    if (JSON.stringify(previous) === JSON.stringify(input)) {
      return { value: input, created: false, changed: false };
    }
    await repository.datamap.saveOrganisation(input);
    await audit(repository, principal, 'organisation.put', 'organisation');
    return { value: input, created: previous === undefined, changed: true };
  }

  // Taxonomy --------------------------------------------------------------------------------

  async taxonomy(
    principal: Principal,
  ): Promise<{ categories: TaxonomyListing[]; purposes: TaxonomyListing[] }> {
    authorize(principal, 'systems:read');
    const { categories, purposes } = await loadTaxonomies(this.store.repository);
    return { categories: categories.entries(), purposes: purposes.entries() };
  }

  /**
   * Replaces the user's additions to both taxonomies. Refused when a key still in use by a field
   * or flow would disappear (the `UNKNOWN_CATEGORY` check below names the first one).
   */
  async putTaxonomyIn(
    repository: Repository,
    principal: Principal,
    input: TaxonomyExtensions,
  ): Promise<Written<TaxonomyExtensions>> {
    authorize(principal, 'systems:write');
    const rows: TaxonomyEntryRow[] = [
      ...(input.categories ?? []).map((e) => entryRow('categories', e)),
      ...(input.purposes ?? []).map((e) => entryRow('purposes', e)),
    ];
    // Throws TAXONOMY_INVALID with the offending key.
    Taxonomy.dataCategories(rows.filter((r) => r.taxonomy === 'categories').map(rowEntry));
    Taxonomy.purposes(rows.filter((r) => r.taxonomy === 'purposes').map(rowEntry));
    const previous = await repository.datamap.listTaxonomyEntries();
    const canonical = (list: readonly TaxonomyEntryRow[]) =>
      JSON.stringify(
        [...list].sort((a, b) => `${a.taxonomy} ${a.key}`.localeCompare(`${b.taxonomy} ${b.key}`)),
      );
    if (canonical(previous) === canonical(rows)) return { value: input, created: false, changed: false };
    await repository.datamap.replaceTaxonomyEntries(rows);
    const { categories, purposes } = await loadTaxonomies(repository);
    const catalog = await repository.retention.loadCatalog();
    for (const policy of catalog.policies) {
      if (policy.status === 'active') requirePurpose(purposes, policy.purpose, `policy ${policy.name}`);
    }
    for (const field of catalog.fields) {
      requireCategories(categories, JSON.parse(field.categories) as string[], `"${field.field}"`);
    }
    for (const flow of await repository.datamap.listFlows()) {
      requireCategories(
        categories,
        JSON.parse(flow.categories) as string[],
        `flow ${flow.from_system} -> ${flow.to_system}`,
      );
    }
    await audit(repository, principal, 'taxonomy.put', 'taxonomy');
    return { value: input, created: previous.length === 0, changed: true };
  }
}

/** A declared flow out of a system, with the categories of it that concern someone's data. */
export interface CarryingFlow {
  readonly from: string;
  readonly to: string;
  /** The flow's categories that cover, or lie below, a category of the data held in `from`. */
  readonly categories: readonly string[];
  readonly description?: string;
}

/**
 * The declared flows out of the systems in `held` (system → the categories of someone's data it
 * holds) that carry some of that data: a flow of `user.contact` carries `user.contact.email`, and
 * a flow of `user.contact.email` carries part of `user.contact`. Read in `repository` (a caller's
 * transaction may pass its own); no permission check: the caller does it.
 */
export async function flowsCarryingIn(
  repository: Repository,
  held: ReadonlyMap<string, readonly string[]>,
): Promise<CarryingFlow[]> {
  const carrying: CarryingFlow[] = [];
  for (const row of await repository.datamap.listFlows()) {
    const categories = held.get(row.from_system);
    if (!categories) continue;
    const carried = (JSON.parse(row.categories) as string[]).filter((flowCategory) =>
      categories.some((category) => coversKey(flowCategory, category) || coversKey(category, flowCategory)),
    );
    if (carried.length === 0) continue;
    carrying.push({
      from: row.from_system,
      to: row.to_system,
      categories: carried,
      ...(row.description !== null ? { description: row.description } : {}),
    });
  }
  return carrying;
}

function entryRow(
  taxonomy: TaxonomyEntryRow['taxonomy'],
  entry: { key: string; description: string; special?: boolean },
): TaxonomyEntryRow {
  return { taxonomy, key: entry.key, description: entry.description, special: entry.special ? 1 : 0 };
}

function rowEntry(row: TaxonomyEntryRow) {
  return { key: row.key, description: row.description, ...(row.special ? { special: true } : {}) };
}

/** http clients need an http(s) URL, grpc a host:port; a ticket client has no address. */
function validateClientAddress(input: RightsClientInput): void {
  const { protocol, address } = input;
  if (protocol === 'ticket') {
    if (address !== undefined) throw new AppError('INVALID_ADDRESS', 'A ticket client has no address.');
    return;
  }
  if (address === undefined) throw new AppError('INVALID_ADDRESS', `A ${protocol} client needs an address.`);
  if (protocol === 'http') {
    let url: URL | undefined;
    try {
      url = new URL(address);
    } catch {
      url = undefined;
    }
    if (!url || !['http:', 'https:'].includes(url.protocol)) {
      throw new AppError('INVALID_ADDRESS', `"${address}" is not an http(s) URL.`);
    }
  } else if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(address)) {
    throw new AppError('INVALID_ADDRESS', `"${address}" is not host:port.`);
  }
}

function teamRowToTeam(row: TeamRow): Team {
  return {
    name: row.name,
    ...(row.description !== null ? { description: row.description } : {}),
    ...(row.contact !== null ? { contact: row.contact } : {}),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

function flowRowToFlow(row: FlowRow): Flow {
  return {
    from: row.from_system,
    to: row.to_system,
    categories: JSON.parse(row.categories) as string[],
    ...(row.description !== null ? { description: row.description } : {}),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}

function clientRowToClient(row: RightsClientRow): RightsClient {
  return {
    name: row.name,
    system: row.system,
    protocol: row.protocol,
    ...(row.address !== null ? { address: row.address } : {}),
    createdAt: toIso(row.created_at),
    updatedAt: toIso(row.updated_at),
  };
}
