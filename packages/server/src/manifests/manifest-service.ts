import type { Manifest, ManifestChange, ManifestResult, ManifestSection } from '@lethe/api';
import { authorize, can, requireAllCategories } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import type { Repository } from '../store/repository.js';
import type { Store } from '../store/store.js';
import type { CatalogCache } from '../retention/catalog-cache.js';
import {
  connectorConfigNotes,
  connectorRowToConnector,
  refuseMismatch,
  type ConnectorService,
} from '../requests/connector-service.js';
import type { ContractService } from '../streams/contract-service.js';
import type { DataMapService } from '../datamap/datamap-service.js';
import { ChangeLog, located } from './change-log.js';
import {
  exportedPolicy,
  exportedSource,
  exportedSystem,
  exportedTaxonomy,
  exportedWebhook,
} from './exported-entries.js';
import { type DiscoveryService, type SourceInput } from '../datamap/discovery/discovery-service.js';
import type { PolicyService } from '../retention/policy-service.js';
import type { SystemService } from '../retention/system-service.js';
import type { HoldService } from '../retention/holds/hold-service.js';
import type { WebhookService } from '../webhooks/webhook-service.js';

interface Services {
  readonly policies: PolicyService;
  readonly systems: SystemService;
  readonly datamap: DataMapService;
  readonly discovery: DiscoveryService;
  readonly connectors: ConnectorService;
  readonly contracts: ContractService;
  readonly holds: HoldService;
  readonly webhooks: WebhookService;
}

/**
 * The reason a policy version made by a manifest records when the apply gives none
 * (docs/retention.md, "Retention changes"); `lethe apply` names its files instead.
 */
export const DEFAULT_MANIFEST_REASON = 'applied from manifest';

/** What one apply carries through its steps. */
interface ApplyRun {
  readonly prune: boolean;
  /** Recorded on every policy version the apply creates or retires. */
  readonly reason: string;
  /** Per connector, a note from its schema check (made before the transaction). */
  readonly schemaNotes: ReadonlyMap<string, string>;
}

/** Thrown at the end of a dry run so that the transaction rolls back with everything it did. */
class DryRunRollback extends Error {
  constructor(readonly changes: ManifestChange[]) {
    super('dry run');
  }
}

/**
 * Applies a manifest as one transaction: every entry is written through the same service code as
 * the API (same validation, audit entries and idempotence), and a refused entry rolls back the
 * whole manifest and is named by its path. A dry run does the same work and rolls it back, so the
 * diff it reports is exactly what applying would do. `prune` removes what the manifest no longer
 * lists (policies are retired, not deleted: they are history) except legal holds, which it
 * reports as kept: only an explicit release ends a hold.
 */
export class ManifestService {
  constructor(
    private readonly store: Store,
    private readonly catalog: CatalogCache,
    private readonly services: Services,
  ) {}

  async apply(
    principal: Principal,
    manifest: Manifest,
    options: { dryRun?: boolean; prune?: boolean; reason?: string } = {},
  ): Promise<ManifestResult> {
    authorize(principal, 'manifest:apply');
    const dryRun = options.dryRun ?? false;
    const prune = options.prune ?? false;
    const run: ApplyRun = {
      prune,
      reason: options.reason?.trim() || DEFAULT_MANIFEST_REASON,
      schemaNotes: await this.checkConnectorSchemas(manifest),
    };
    let changes: ManifestChange[];
    try {
      changes = await this.store.transaction(
        async (repository) => {
          const made = await this.applyIn(repository, principal, manifest, run);
          if (dryRun) throw new DryRunRollback(made);
          return made;
        },
        { exclusiveCatalog: true },
      );
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
      changes = error.changes;
    } finally {
      await this.catalog.reload();
    }
    if (!dryRun) this.services.policies.recomputesCommitted();
    // A dry run's secrets were rolled back with everything else: they would never sign anything.
    if (dryRun) changes = changes.map(({ secret: _secret, ...change }) => change);
    const count = (action: ManifestChange['action']) => changes.filter((c) => c.action === action).length;
    return {
      dryRun,
      prune,
      changes,
      summary: {
        created: count('created'),
        changed: count('changed'),
        unchanged: count('unchanged'),
        removed: count('removed'),
        kept: count('kept'),
      },
    };
  }

  /**
   * Each connector against its database's live catalog, before the transaction opens (a slow
   * database never holds Lethe's lock): a mismatch refuses the manifest, named by its path; a
   * check that could not be made becomes a note on the entry.
   */
  private async checkConnectorSchemas(manifest: Manifest): Promise<Map<string, string>> {
    const notes = new Map<string, string>();
    for (const [i, { name, ...connector }] of (manifest.connectors ?? []).entries()) {
      const check = await this.services.connectors.checkSchema(connector);
      try {
        refuseMismatch(name, check);
      } catch (error) {
        throw located(error, 'connectors', name, `connectors[${i}]`);
      }
      if (check.note !== undefined) notes.set(name, check.note);
    }
    return notes;
  }

  private async applyIn(
    repository: Repository,
    principal: Principal,
    manifest: Manifest,
    run: ApplyRun,
  ): Promise<ManifestChange[]> {
    requireUniqueEntries(manifest);
    const log = new ChangeLog();
    await this.writeEntries(repository, principal, manifest, run, log);
    if (run.prune) await this.removeUnlisted(repository, principal, manifest, run, log);
    return log.changes;
  }

  /** Writes every entry the manifest lists, in dependency order. */
  private async writeEntries(
    repository: Repository,
    principal: Principal,
    manifest: Manifest,
    { prune, reason, schemaNotes }: ApplyRun,
    log: ChangeLog,
  ): Promise<void> {
    const { policies, systems, datamap, discovery, connectors, contracts, holds, webhooks } = this.services;
    const entry = log.entry.bind(log);
    // Writes, in dependency order: categories before the fields that use them, systems before flows.
    if (manifest.taxonomy !== undefined || prune) {
      const taxonomy = manifest.taxonomy ?? {};
      await entry('taxonomy', 'taxonomy', 'taxonomy', () =>
        datamap.putTaxonomyIn(repository, principal, taxonomy),
      );
    }
    if (manifest.organisation !== undefined) {
      const organisation = manifest.organisation;
      await entry('organisation', 'organisation', 'organisation', () =>
        datamap.putOrganisationIn(repository, principal, organisation),
      );
    }
    for (const [i, { name, ...team }] of (manifest.teams ?? []).entries()) {
      await entry('teams', name, `teams[${i}]`, () => datamap.putTeamIn(repository, principal, name, team));
    }
    for (const [i, { name, ...policy }] of (manifest.policies ?? []).entries()) {
      await entry('policies', name, `policies[${i}]`, () =>
        policies.putIn(repository, principal, name, { ...policy, reason }),
      );
    }
    for (const [i, { name, ...system }] of (manifest.systems ?? []).entries()) {
      await entry('systems', name, `systems[${i}]`, () => systems.putIn(repository, principal, name, system));
    }
    for (const [i, { from, to, ...flow }] of (manifest.flows ?? []).entries()) {
      await entry('flows', `${from} -> ${to}`, `flows[${i}]`, () =>
        datamap.putFlowIn(repository, principal, from, to, flow),
      );
    }
    for (const [i, { name, ...client }] of (manifest.clients ?? []).entries()) {
      await entry('clients', name, `clients[${i}]`, () =>
        datamap.putClientIn(repository, principal, name, client),
      );
    }
    for (const [i, source] of (manifest.sources ?? []).entries()) {
      await entry('sources', source.name, `sources[${i}]`, () =>
        discovery.putIn(repository, principal, source as SourceInput),
      );
    }
    for (const [i, { name, ...connector }] of (manifest.connectors ?? []).entries()) {
      await entry(
        'connectors',
        name,
        `connectors[${i}]`,
        () => connectors.putIn(repository, principal, name, connector),
        [
          ...connectorConfigNotes(connector),
          ...(schemaNotes.has(name) ? [schemaNotes.get(name) as string] : []),
        ],
      );
    }
    // Contracts after the taxonomy, whose purposes they name. Versions are immutable history:
    // prune never removes one (stored events name it), and changing one is refused.
    for (const [i, { name, ...contract }] of (manifest.contracts ?? []).entries()) {
      await entry('contracts', contractName({ name, ...contract }), `contracts[${i}]`, () =>
        contracts.putIn(repository, principal, name, contract),
      );
    }
    // Holds last: their scope names systems and policies the manifest may have just declared.
    for (const [i, { name, ...hold }] of (manifest.holds ?? []).entries()) {
      await entry('holds', name, `holds[${i}]`, () => holds.putIn(repository, principal, name, hold));
    }
    // Webhooks last: their system filters name systems. A created one's secret is shown once.
    for (const [i, webhook] of (manifest.webhooks ?? []).entries()) {
      await entry('webhooks', webhook.name, `webhooks[${i}]`, () =>
        webhooks.putIn(repository, principal, webhook),
      );
    }
  }

  /** Removes everything the manifest does not list (`prune`). */
  private async removeUnlisted(
    repository: Repository,
    principal: Principal,
    manifest: Manifest,
    { reason }: ApplyRun,
    log: ChangeLog,
  ): Promise<void> {
    const { policies, systems, datamap, discovery, connectors, webhooks } = this.services;
    const removal = log.removal.bind(log);
    const listed = (names: readonly string[]) => new Set(names);
    const keepWebhooks = listed((manifest.webhooks ?? []).map((w) => w.name));
    for (const webhook of await repository.webhooks.list()) {
      if (keepWebhooks.has(webhook.name)) continue;
      await removal('webhooks', webhook.name, async () => {
        await webhooks.removeIn(repository, principal, webhook.name);
        return true;
      });
    }
    // A legal hold is never released by prune: a line lost in a YAML edit or a merge must not end
    // a legal obligation and let held data be deleted. It is reported, with how to release it.
    const keepHolds = listed((manifest.holds ?? []).map((h) => h.name));
    for (const hold of await repository.holds.list()) {
      if (!keepHolds.has(hold.name)) log.kept('holds', hold.name, KEPT_HOLD_NOTE(hold.name));
    }
    // Removals, in the reverse order, of everything the manifest does not list.
    const keepConnectors = listed((manifest.connectors ?? []).map((c) => c.name));
    for (const connector of await repository.requests.listConnectors()) {
      if (keepConnectors.has(connector.name)) continue;
      await removal('connectors', connector.name, async () => {
        await connectors.removeIn(repository, principal, connector.name);
        return true;
      });
    }
    const keepSources = listed((manifest.sources ?? []).map((s) => s.name));
    for (const source of await repository.datamap.listSources()) {
      if (keepSources.has(source.name)) continue;
      await removal('sources', source.name, async () => {
        await discovery.removeIn(repository, principal, source.name);
        return true;
      });
    }
    const keepClients = listed((manifest.clients ?? []).map((c) => c.name));
    for (const client of await repository.datamap.listClients()) {
      if (keepClients.has(client.name)) continue;
      await removal('clients', client.name, async () => {
        await datamap.removeClientIn(repository, principal, client.name);
        return true;
      });
    }
    const keepFlows = listed((manifest.flows ?? []).map(flowName));
    for (const flow of await repository.datamap.listFlows()) {
      const name = flowName({ from: flow.from_system, to: flow.to_system });
      if (keepFlows.has(name)) continue;
      await removal('flows', name, async () => {
        await datamap.removeFlowIn(repository, principal, flow.from_system, flow.to_system);
        return true;
      });
    }
    const keepSystems = listed((manifest.systems ?? []).map((s) => s.name));
    for (const system of (await repository.retention.loadCatalog()).systems) {
      if (keepSystems.has(system.name)) continue;
      await removal('systems', system.name, async () => {
        await systems.removeIn(repository, principal, system.name);
        return true;
      });
    }
    const keepPolicies = listed((manifest.policies ?? []).map((p) => p.name));
    for (const policy of await repository.retention.listPolicies()) {
      if (keepPolicies.has(policy.name)) continue;
      await removal(
        'policies',
        policy.name,
        async () => (await policies.retireIn(repository, principal, policy.name, reason)).changed,
      );
    }
    const keepTeams = listed((manifest.teams ?? []).map((t) => t.name));
    for (const team of await repository.datamap.listTeams()) {
      if (keepTeams.has(team.name)) continue;
      await removal('teams', team.name, async () => {
        await datamap.removeTeamIn(repository, principal, team.name);
        return true;
      });
    }
    if (manifest.organisation === undefined) {
      await removal('organisation', 'organisation', async () => {
        return (await datamap.putOrganisationIn(repository, principal, undefined)).changed;
      });
    }
  }

  /**
   * The declared map and the active policies as a manifest, in canonical order with defaults left
   * out, so that applying it back changes nothing and exporting again gives the same text.
   */
  async export(principal: Principal): Promise<Manifest> {
    authorize(principal, 'manifest:export');
    requireAllCategories(principal, 'An export lists every field');
    const repository = this.store.repository;
    const [
      organisation,
      taxonomyRows,
      teams,
      policyRows,
      catalog,
      flows,
      clients,
      sources,
      connectorRows,
      contracts,
      holds,
      webhooks,
    ] = await Promise.all([
      repository.datamap.organisation(),
      repository.datamap.listTaxonomyEntries(),
      repository.datamap.listTeams(),
      repository.retention.listPolicies(),
      repository.retention.loadCatalog(),
      repository.datamap.listFlows(),
      repository.datamap.listClients(),
      repository.datamap.listSources(),
      repository.requests.listConnectors(),
      this.services.contracts.all(),
      this.services.holds.exportedIn(repository, principal),
      // Subscriptions only for who may read them (not an auditor); never with a secret.
      can(principal, 'webhooks:read') ? this.services.webhooks.list(principal) : [],
    ]);
    const manifest: Manifest = {
      ...(organisation !== undefined ? { organisation } : {}),
      ...(taxonomyRows.length ? { taxonomy: exportedTaxonomy(taxonomyRows) } : {}),
      teams: teams.map((team) => ({
        name: team.name,
        ...(team.description !== null ? { description: team.description } : {}),
        ...(team.contact !== null ? { contact: team.contact } : {}),
      })),
      policies: policyRows.filter((row) => row.status === 'active').map(exportedPolicy),
      systems: catalog.systems.map((system) => exportedSystem(system, catalog)),
      flows: flows.map((flow) => ({
        from: flow.from_system,
        to: flow.to_system,
        categories: JSON.parse(flow.categories) as string[],
        ...(flow.description !== null ? { description: flow.description } : {}),
      })),
      clients: clients.map((client) => ({
        name: client.name,
        system: client.system,
        protocol: client.protocol as 'http' | 'grpc' | 'ticket',
        ...(client.address !== null ? { address: client.address } : {}),
      })),
      sources: sources.map(exportedSource),
      connectors: connectorRows.map((row) => {
        const { createdAt: _created, updatedAt: _updated, ...connector } = connectorRowToConnector(row);
        return connector;
      }),
      ...(contracts.length
        ? { contracts: contracts.map(({ createdAt: _created, ...contract }) => contract) }
        : {}),
      ...(holds.length ? { holds } : {}),
      ...(webhooks.length ? { webhooks: webhooks.map(exportedWebhook) } : {}),
    };
    return manifest;
  }
}

const KEPT_HOLD_NOTE = (name: string) =>
  `kept (release with DELETE /v1/holds/${name} or \`lethe holds release ${name}\`)`;

function requireUniqueEntries(manifest: Manifest): void {
  for (const section of [
    'teams',
    'policies',
    'systems',
    'clients',
    'sources',
    'connectors',
    'holds',
    'webhooks',
  ] as const) {
    requireUniqueNames(
      section,
      (manifest[section] ?? []).map((e) => e.name),
    );
  }
  requireUniqueNames('flows', (manifest.flows ?? []).map(flowName));
  requireUniqueNames('contracts', (manifest.contracts ?? []).map(contractName));
}

function contractName(contract: { name: string; version: number }): string {
  return `${contract.name}@${contract.version}`;
}

function flowName(flow: { from: string; to: string }): string {
  return `${flow.from} -> ${flow.to}`;
}

function requireUniqueNames(section: ManifestSection, names: readonly string[]): void {
  const index = names.findIndex((name, i) => names.indexOf(name) !== i);
  if (index !== -1) {
    throw new AppError('DUPLICATE_NAME', `"${names[index]}" appears twice in ${section}.`, {
      path: `${section}[${index}]`,
    });
  }
}
