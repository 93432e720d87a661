import type { ContractHistory, DataContract, DataContractInput } from '@lethe/api';
import { authorize } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/app-error.js';
import { canonicalJson } from '../lib/canonical-json.js';
import { compileContract } from './data-contract/compile-contract.js';
import type { CompiledContract } from './data-contract/compiled-contract.js';
import { ContractError } from './data-contract/contract-error.js';
import { formatContractRef, type ContractRef } from './data-contract/contract-ref.js';
import { parseDuration, type Duration } from '../lib/duration.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';
import type { Repository } from '../store/repository.js';
import type { ContractRow } from './stream-tables.js';
import type { Store } from '../store/store.js';
import { audit } from '../audit/audit-trail.js';
import type { Written } from '../datamap/datamap-service.js';
import { loadTaxonomies } from '../datamap/datamap-snapshot.js';

/** A contract version as ingest needs it: compiled, or why it no longer compiles. */
export type ContractLookup =
  | { readonly kind: 'compiled'; readonly contract: CompiledContract }
  | { readonly kind: 'unknown-name' }
  | { readonly kind: 'unknown-version'; readonly versions: readonly number[] }
  | { readonly kind: 'invalid'; readonly error: ContractError };

export function contractRowToContract(row: ContractRow): DataContract {
  return {
    name: row.name,
    createdAt: toIso(row.created_at),
    ...(JSON.parse(row.body) as DataContractInput),
  };
}

/**
 * Data contracts of privacy streams: `name@version`, each version immutable once published.
 * Publishing a version again with the same content changes nothing; with other content it is
 * refused (`CONTRACT_VERSION_EXISTS`): events already stored under it were checked and encrypted
 * by what it said.
 *
 * Versions are cached without expiry (they never change); compiled contracts are cached per
 * state of the purpose taxonomy, which they are checked against and which can change.
 */
export class ContractService {
  readonly #versions = new Map<string, DataContract>();
  #compiled = new Map<string, ContractLookup>();
  #taxonomyText = '';

  constructor(private readonly store: Store) {}

  put(principal: Principal, name: string, input: DataContractInput): Promise<Written<DataContract>> {
    return this.store.transaction((repository) => this.putIn(repository, principal, name, input));
  }

  /** Publishes a contract version inside the caller's transaction (the API and manifests). */
  async putIn(
    repository: Repository,
    principal: Principal,
    name: string,
    input: DataContractInput,
  ): Promise<Written<DataContract>> {
    authorize(principal, 'contracts:write');
    const { purposes } = await loadTaxonomies(repository);
    compileContract(name, input, purposes);
    if (input.keyRetention !== undefined && parseDuration(input.keyRetention) === undefined) {
      throw new AppError(
        'CONTRACT_INVALID',
        `keyRetention "${input.keyRetention}" is not an ISO 8601 duration such as P90D.`,
        { path: 'keyRetention', reason: 'invalid_key_retention' },
      );
    }
    const body = canonicalJson(input);
    const ref = formatContractRef({ name, version: input.version });
    const existing = await repository.streams.getContract(name, input.version);
    if (existing !== undefined) {
      if (existing.body !== body) {
        throw new AppError(
          'CONTRACT_VERSION_EXISTS',
          `${ref} exists with another content; publish the change as a new version.`,
          { name, version: input.version },
        );
      }
      return { value: contractRowToContract(existing), created: false, changed: false };
    }
    const row: ContractRow = { name, version: input.version, body, created_at: Date.now() };
    await repository.streams.insertContract(row);
    await audit(repository, principal, 'contract.put', `contract:${ref}`);
    return { value: contractRowToContract(row), created: true, changed: true };
  }

  /** The newest version of every contract. */
  async list(principal: Principal): Promise<DataContract[]> {
    authorize(principal, 'contracts:read');
    const rows = await this.store.repository.streams.allContracts();
    const latest = new Map<string, ContractRow>();
    for (const row of rows) latest.set(row.name, row); // ordered by version: the last one wins
    return [...latest.values()].map(contractRowToContract);
  }

  async history(principal: Principal, name: string): Promise<ContractHistory> {
    authorize(principal, 'contracts:read');
    const rows = await this.store.repository.streams.contractVersions(name);
    const latest = rows.at(-1);
    if (latest === undefined) throw new AppError('CONTRACT_NOT_FOUND', `No contract named "${name}".`);
    return { name, latest: contractRowToContract(latest), versions: rows.map((row) => row.version) };
  }

  async version(principal: Principal, name: string, version: number): Promise<DataContract> {
    authorize(principal, 'contracts:read');
    const contract = await this.find({ name, version });
    if (contract === undefined) {
      throw new AppError('CONTRACT_NOT_FOUND', `No contract ${formatContractRef({ name, version })}.`);
    }
    return contract;
  }

  /** Every version of every contract, for a manifest export. */
  async all(): Promise<DataContract[]> {
    return (await this.store.repository.streams.allContracts()).map(contractRowToContract);
  }

  /** A contract version, from memory once read (versions never change). No authorisation: internal. */
  async find(ref: ContractRef): Promise<DataContract | undefined> {
    const key = formatContractRef(ref);
    const cached = this.#versions.get(key);
    if (cached !== undefined) return cached;
    const row = await this.store.repository.streams.getContract(ref.name, ref.version);
    if (row === undefined) return undefined;
    const contract = contractRowToContract(row);
    this.#versions.set(key, contract);
    return contract;
  }

  /** The purpose taxonomy as stored now: the defaults and the user's additions. */
  async purposes(): Promise<Taxonomy> {
    return (await loadTaxonomies(this.store.repository)).purposes;
  }

  /**
   * The compiled contracts named by `refs`, checked against `purposes` (read it once per batch
   * with `purposes()`); a ref that names no stored version says so.
   */
  async compiled(refs: Iterable<ContractRef>, purposes: Taxonomy): Promise<Map<string, ContractLookup>> {
    const taxonomyText = canonicalJson(purposes.entries());
    if (taxonomyText !== this.#taxonomyText) {
      this.#compiled = new Map();
      this.#taxonomyText = taxonomyText;
    }
    const found = new Map<string, ContractLookup>();
    for (const ref of refs) {
      const key = formatContractRef(ref);
      if (found.has(key)) continue;
      let lookup = this.#compiled.get(key);
      if (lookup === undefined) {
        lookup = await this.#compile(ref, purposes);
        // Unknown versions are not cached: they may be published a moment later.
        if (lookup.kind === 'compiled' || lookup.kind === 'invalid') this.#compiled.set(key, lookup);
      }
      found.set(key, lookup);
    }
    return found;
  }

  async #compile(ref: ContractRef, purposes: Taxonomy): Promise<ContractLookup> {
    const contract = await this.find(ref);
    if (contract === undefined) {
      const versions = (await this.store.repository.streams.contractVersions(ref.name)).map(
        (row) => row.version,
      );
      return versions.length === 0 ? { kind: 'unknown-name' } : { kind: 'unknown-version', versions };
    }
    const { name: _name, createdAt: _createdAt, ...input } = contract;
    try {
      return { kind: 'compiled', contract: compileContract(ref.name, input, purposes) };
    } catch (error) {
      // A purpose it names was taken out of the taxonomy since it was published.
      if (error instanceof ContractError) return { kind: 'invalid', error };
      throw error;
    }
  }

  /** The key retention of every contract that sets one: by contract name, from its newest version. */
  async keyRetentions(): Promise<Map<string, Duration>> {
    const retentions = new Map<string, Duration>();
    for (const row of await this.store.repository.streams.allContracts()) {
      const { keyRetention } = JSON.parse(row.body) as DataContractInput;
      const duration = keyRetention === undefined ? undefined : parseDuration(keyRetention);
      // Rows come oldest version first: a newer version without a retention removes it.
      if (duration === undefined) retentions.delete(row.name);
      else retentions.set(row.name, duration);
    }
    return retentions;
  }
}
