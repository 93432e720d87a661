import { consentHistoryIn, purposeStates } from '../consent/consent-service.js';
import { flowsCarryingIn } from '../datamap/datamap-service.js';
import { toIso } from '../lib/time.js';
import { CatalogView } from '../retention/catalog-cache.js';
import { readSubjectIn } from '../retention/retention-service.js';
import type { Repository } from '../store/repository.js';
import type {
  KnownField,
  KnownPurpose,
  KnownRecipient,
  KnownSource,
  LetheKnowledge,
  LetheSubjectKnowledge,
} from './dsar-package.js';
import type { RightsRequestRow } from './request-tables.js';
import type { RequestVault, Sealer } from './request-vault.js';

/** The label Lethe's own section is sealed under, within the request's key. */
const KNOWLEDGE_LABEL = 'lethe-knowledge';

/**
 * Seals what Lethe itself knows about a DSAR's subject into the request, in the transaction that
 * completes it: the answer is what held at completion, protected by the request key like the
 * records found, and destroyed with them (`RequestQueries.destroyPii`).
 */
export async function sealLetheKnowledge(
  repository: Repository,
  vault: RequestVault,
  request: RightsRequestRow,
  now: number,
): Promise<void> {
  const sealer = await vault.open(repository, request.id);
  if (!sealer) return;
  const subject = (await vault.identifiers(repository, request))?.subject;
  const knowledge: LetheKnowledge =
    subject === undefined
      ? { status: 'no-subject-id' }
      : await gatherLetheKnowledge(repository, subject, now);
  await repository.requests.updateRequest(request.id, {
    knowledge_sealed: sealer.seal(knowledge, KNOWLEDGE_LABEL),
  });
}

/** The sealed snapshot, or `not-captured` for a request completed before snapshots were taken. */
export function openLetheKnowledge(sealer: Sealer, request: RightsRequestRow): LetheKnowledge {
  if (request.knowledge_sealed === null) return { status: 'not-captured' };
  return sealer.open<LetheKnowledge>(request.knowledge_sealed, KNOWLEDGE_LABEL);
}

/**
 * Everything Lethe's own records say about `subject` (GDPR Art. 15(1)): the fields held with
 * their categories and every use (which system, under which policy, first and last use), the
 * purposes and legal bases of those policies, the expiry per field, confirmed erasures, where
 * the data lives, the declared flows that carry it out of those systems, and the consent history
 * with its proof. Read through the owning features' exports, in the caller's transaction.
 */
export async function gatherLetheKnowledge(
  repository: Repository,
  subject: string,
  now: number,
): Promise<LetheSubjectKnowledge> {
  const catalog = await repository.retention.loadCatalog();
  const view = new CatalogView(catalog);
  const held = await readSubjectIn(repository, view, subject);
  const history = await consentHistoryIn(repository, subject);
  const datasetOwner = new Map(catalog.datasets.map((dataset) => [dataset.name, dataset.system]));
  const declared = new Map(
    catalog.fields.map((field) => [
      field.field,
      { dataset: field.dataset, categories: JSON.parse(field.categories) as string[] },
    ]),
  );
  const systems = new Map(catalog.systems.map((system) => [system.name, system]));

  const fields: KnownField[] = held.fields.map((field) => {
    const declaration = declared.get(field.field);
    const holder = declaration ? datasetOwner.get(declaration.dataset) : undefined;
    return {
      ...field,
      categories: declaration?.categories ?? [],
      ...(declaration ? { dataset: declaration.dataset } : {}),
      ...(holder !== undefined ? { holder } : {}),
    };
  });

  // Which categories of the subject's data each system holds or used: what its flows may carry.
  const categoriesIn = new Map<string, Set<string>>();
  const note = (system: string, categories: readonly string[]) => {
    const set = categoriesIn.get(system) ?? new Set<string>();
    for (const category of categories) set.add(category);
    categoriesIn.set(system, set);
  };
  for (const field of fields) {
    if (field.holder !== undefined) note(field.holder, field.categories);
    for (const use of field.uses) note(use.system, field.categories);
  }
  const flows = await flowsCarryingIn(
    repository,
    new Map([...categoriesIn].map(([system, set]) => [system, [...set]])),
  );
  const recipients: KnownRecipient[] = flows.map((flow) => {
    const to = systems.get(flow.to);
    return {
      from: flow.from,
      to: flow.to,
      ...(to ? { team: to.team } : {}),
      thirdParty: to?.third_party === 1,
      ...(to?.country != null ? { country: to.country } : {}),
      ...(to?.safeguards != null ? { safeguards: to.safeguards } : {}),
      categories: flow.categories,
    };
  });

  return {
    status: 'subject',
    subject,
    capturedAt: toIso(now),
    ...(held.expiry
      ? {
          expiry: {
            expiresAt: toIso(held.expiry.expires_at),
            field: held.expiry.field,
            policy: held.expiry.policy,
            system: held.expiry.system,
            ...waitingOf(fields, held.expiry),
          },
        }
      : {}),
    fields,
    purposes: purposesOf(fields, view),
    recipients,
    sources: sourcesOf(fields, (system) => systems.get(system)?.team),
    erasures: held.erasures.map((row) => ({
      field: row.field,
      system: row.system,
      erasedAt: toIso(row.erased_at),
      recordedAt: toIso(row.recorded_at),
    })),
    consent: { purposes: purposeStates(held.consent), history },
  };
}

/** The policies the subject's data was used under, each with the fields it covered. */
function purposesOf(fields: readonly KnownField[], view: CatalogView): KnownPurpose[] {
  const fieldsOf = new Map<string, Set<string>>();
  for (const field of fields) {
    for (const use of field.uses) {
      const set = fieldsOf.get(use.policy) ?? new Set<string>();
      set.add(field.field);
      fieldsOf.set(use.policy, set);
    }
  }
  return [...fieldsOf].flatMap(([name, used]) => {
    const policy = view.policy(name);
    if (!policy) return [];
    return [
      {
        policy: name,
        purpose: policy.purpose,
        legalBasis: policy.legal_basis,
        retention: policy.retention,
        since: policy.since,
        ...(policy.description !== null ? { description: policy.description } : {}),
        fields: [...used].sort(),
      },
    ];
  });
}

/** The systems holding the data, by dataset, then those that used it without holding it. */
function sourcesOf(
  fields: readonly KnownField[],
  teamOf: (system: string) => string | undefined,
): KnownSource[] {
  const holders = new Map<string, Map<string, string[]>>();
  const users = new Set<string>();
  for (const field of fields) {
    for (const use of field.uses) users.add(use.system);
    if (field.holder === undefined || field.dataset === undefined) continue;
    const datasets = holders.get(field.holder) ?? new Map<string, string[]>();
    datasets.set(field.dataset, [...(datasets.get(field.dataset) ?? []), field.field]);
    holders.set(field.holder, datasets);
  }
  const source = (system: string, datasets: KnownSource['datasets'], usedOnly: boolean): KnownSource => {
    const team = teamOf(system);
    return { system, ...(team !== undefined ? { team } : {}), datasets, usedOnly };
  };
  return [
    ...[...holders].map(([system, datasets]) =>
      source(
        system,
        [...datasets].map(([dataset, names]) => ({ dataset, fields: names })),
        false,
      ),
    ),
    ...[...users].filter((system) => !holders.has(system)).map((system) => source(system, [], true)),
  ];
}

/** The event the field kept longest still waits for (its expiry is then the 9999-12-31 placeholder). */
function waitingOf(fields: readonly KnownField[], expiry: { field: string }) {
  const waitingFor = fields.find((field) => field.field === expiry.field)?.waitingFor;
  return waitingFor !== undefined ? { waitingFor } : {};
}
