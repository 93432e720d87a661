import type {
  Contact,
  Organisation,
  RopaGap,
  RopaRecipient,
  RopaReport,
  RopaRow,
  RopaTransfer,
} from '@lethe/api';
import { toCsv } from '../lib/csv.js';
import type { DataMapSnapshot, MapSystem, UsageLink } from './datamap.js';
import type { Taxonomy } from '../lib/taxonomy.js';
import { toIso } from '../lib/time.js';
import { byCodeUnit } from '../lib/by-code-unit.js';

/**
 * The GDPR Art. 30(1) record of processing activities, derived rather than typed in: one row per
 * policy (a purpose with its retention and legal basis), filled from the policy itself, the data
 * map and telemetry's usage links. Pure; what cannot be derived becomes a gap, never a guess.
 *
 * Derivation, per policy:
 * - processing systems: the systems of the usage links under the policy;
 * - personal data (c): the categories of the fields in those links, as declared by the system whose
 *   dataset holds the field (dataset names are unique, so a field has one declaring system);
 * - recipients (d): the direct recipients only — systems receiving a declared flow from a
 *   processing system whose categories overlap what that system used under the policy — plus the
 *   processing systems run by third parties (processors). An internal system that itself processes
 *   under the policy is part of the controller's processing, not a recipient. A flow category
 *   overlaps a field category when either covers the other (`user.contact` carries
 *   `user.contact.email`, and a `user.contact.email` flow carries part of a `user.contact` field);
 *   the recipient is listed with the narrower of the two, which is what it actually receives;
 * - transfers (e): processing systems and recipients whose country lies outside the EEA;
 * - erasure time limits (f): the policy's retention, for each category processed under it.
 */

export interface RopaPolicy {
  readonly name: string;
  readonly purpose: string;
  readonly retention: string;
  readonly legalBasis: string;
  readonly description?: string;
  readonly dataSubjects?: readonly string[];
  readonly reviewedOn?: string;
  readonly status: 'active' | 'retired';
  /** Epoch ms. */
  readonly updatedAt: number;
}

export interface RopaInput {
  readonly organisation?: Organisation;
  readonly policies: readonly RopaPolicy[];
  readonly snapshot: DataMapSnapshot;
  readonly usageLinks: readonly UsageLink[];
  readonly categories: Taxonomy;
  readonly purposes: Taxonomy;
  /** Epoch ms. */
  readonly now: number;
}

/** The European Economic Area: the EU 27 plus Iceland, Liechtenstein and Norway (ISO 3166-1 alpha-2). */
// prettier-ignore
export const EEA_COUNTRIES: ReadonlySet<string> = new Set([
  'AT', 'BE', 'BG', 'HR', 'CY', 'CZ', 'DK', 'EE', 'FI', 'FR', 'DE', 'GR', 'HU', 'IE', 'IT', 'LV', 'LT', 'LU',
  'MT', 'NL', 'PL', 'PT', 'RO', 'SK', 'SI', 'ES', 'SE', // EU 27
  'IS', 'LI', 'NO',
]);

export function isEeaCountry(country: string): boolean {
  return EEA_COUNTRIES.has(country.toUpperCase());
}

/** The Art. 30(1) columns, as CSV headers and as the `column` of gaps. */
export const ROPA_COLUMNS = {
  controller: 'controller (a)',
  jointControllers: 'joint controllers (a)',
  representative: 'representative (a)',
  dpo: 'data protection officer (a)',
  purposes: 'purposes (b)',
  dataSubjects: 'data subjects (c)',
  personalData: 'personal data (c)',
  recipients: 'recipients (d)',
  transfers: 'third-country transfers (e)',
  erasure: 'erasure time limits (f)',
  security: 'security measures (g)',
} as const;

function sorted(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(byCodeUnit);
}

interface DeclaredField {
  readonly system: string;
  readonly categories: readonly string[];
}

/** What the report needs from the data map and taxonomies, indexed once for all policies. */
interface Context {
  readonly systems: ReadonlyMap<string, MapSystem>;
  readonly fields: ReadonlyMap<string, DeclaredField>;
  readonly purposeDescriptions: ReadonlyMap<string, string>;
  readonly input: RopaInput;
  readonly securityMeasures: readonly string[];
}

export function buildRopa(input: RopaInput): RopaReport {
  const { organisation } = input;
  const gaps: RopaGap[] = [];
  const securityMeasures = [...(organisation?.securityMeasures ?? [])];

  if (!organisation) {
    gaps.push({
      column: ROPA_COLUMNS.controller,
      problem: 'no organisation recorded: the name and contact details of the controller are missing',
    });
  } else if (!hasContactDetails(organisation.controller)) {
    gaps.push({
      column: ROPA_COLUMNS.controller,
      problem: `the controller "${organisation.controller.name}" has no contact details (email, phone or address)`,
    });
  }
  if (securityMeasures.length === 0) {
    gaps.push({
      column: ROPA_COLUMNS.security,
      problem: 'no technical and organisational security measures recorded (Art. 32)',
    });
  }

  const fields = new Map<string, DeclaredField>();
  for (const system of input.snapshot.systems) {
    for (const field of system.fields) {
      fields.set(field.field, { system: system.name, categories: field.categories });
    }
  }
  const context: Context = {
    systems: new Map(input.snapshot.systems.map((system) => [system.name, system])),
    fields,
    purposeDescriptions: new Map(input.purposes.entries().map((entry) => [entry.key, entry.description])),
    input,
    securityMeasures,
  };

  const linksByPolicy = new Map<string, UsageLink[]>();
  for (const link of input.usageLinks) {
    const links = linksByPolicy.get(link.policy);
    if (links) links.push(link);
    else linksByPolicy.set(link.policy, [link]);
  }

  const rows: RopaRow[] = [];
  const policies = [...input.policies].sort((a, b) => byCodeUnit(a.name, b.name));
  for (const policy of policies) {
    const links = linksByPolicy.get(policy.name) ?? [];
    // A retired policy stays on the record while data used under it is still on file.
    if (policy.status === 'retired' && links.length === 0) continue;
    rows.push(buildRow(policy, links, context, gaps));
  }

  return {
    generatedAt: toIso(input.now),
    ...(organisation ? { controller: organisation.controller } : {}),
    jointControllers: [...(organisation?.jointControllers ?? [])],
    ...(organisation?.representative ? { representative: organisation.representative } : {}),
    ...(organisation?.dpo ? { dpo: organisation.dpo } : {}),
    securityMeasures,
    rows,
    gaps,
  };
}

function hasContactDetails(contact: Contact): boolean {
  return [contact.email, contact.phone, contact.address].some((detail) => !!detail?.trim());
}

interface RecipientDraft {
  readonly system: string;
  readonly team: string;
  readonly thirdParty: boolean;
  readonly country: string | undefined;
  readonly declared: boolean;
  readonly categories: Set<string>;
}

/** Records a gap in one column of the row being built. */
type Gap = (column: string, problem: string) => void;

function buildRow(
  policy: RopaPolicy,
  links: readonly UsageLink[],
  context: Context,
  gaps: RopaGap[],
): RopaRow {
  const { categories: taxonomy } = context.input;
  const gap: Gap = (column, problem) => {
    gaps.push({ policy: policy.name, column, problem });
  };

  // Art. 30(1)(b)
  const purposeDescription = context.purposeDescriptions.get(policy.purpose) ?? policy.description;
  if (!purposeDescription) {
    gap(
      ROPA_COLUMNS.purposes,
      `the purpose "${policy.purpose}" is not in the purpose taxonomy and the policy has no description`,
    );
  }

  // Art. 30(1)(c): data subjects
  const dataSubjects = [...(policy.dataSubjects ?? [])];
  if (dataSubjects.length === 0) gap(ROPA_COLUMNS.dataSubjects, 'no categories of data subjects declared');

  const usedBySystem = usedCategoriesBySystem(links, context, gap);
  const personalDataCategories = sorted([...usedBySystem.values()].flatMap((used) => [...used]));
  const specialCategories = personalDataCategories.filter((key) => taxonomy.isSpecialCategory(key));

  const processingSystems = sorted(usedBySystem.keys());
  const recipients = findRecipients(usedBySystem, processingSystems, context, gap);
  const { recipientList, recipientCategories } = recipientsOnRecord(recipients, gap);

  // Art. 30(1)(e)
  const transfers = findTransfers(sorted([...processingSystems, ...recipients.keys()]), context, gap);

  return {
    policy: policy.name,
    status: policy.status,
    purpose: policy.purpose,
    ...(purposeDescription ? { purposeDescription } : {}),
    ...(policy.description ? { description: policy.description } : {}),
    legalBasis: policy.legalBasis,
    retention: policy.retention,
    dataSubjects,
    personalDataCategories,
    specialCategories,
    processingSystems,
    recipients: recipientList,
    recipientCategories,
    transfers,
    // Art. 30(1)(f)
    erasureTimeLimits: personalDataCategories.map((category) => ({ category, retention: policy.retention })),
    // Art. 30(1)(g)
    securityMeasures: [...context.securityMeasures],
    ...(policy.reviewedOn ? { reviewedOn: policy.reviewedOn } : {}),
    lastChangedAt: toIso(policy.updatedAt),
  };
}

/** Art. 30(1)(c): personal data, per processing system (every system of a link, even with none). */
function usedCategoriesBySystem(
  links: readonly UsageLink[],
  context: Context,
  gap: Gap,
): Map<string, Set<string>> {
  const usedBySystem = new Map<string, Set<string>>();
  const undeclaredFields = new Set<string>();
  const uncategorisedFields = new Set<string>();
  for (const link of links) {
    let used = usedBySystem.get(link.system);
    if (!used) usedBySystem.set(link.system, (used = new Set()));
    const declared = context.fields.get(link.field);
    if (!declared) undeclaredFields.add(link.field);
    else if (declared.categories.length === 0) uncategorisedFields.add(link.field);
    else for (const category of declared.categories) used.add(category);
  }
  if (links.length === 0) gap(ROPA_COLUMNS.personalData, 'no usage recorded; categories unknown');
  if (undeclaredFields.size > 0) {
    gap(
      ROPA_COLUMNS.personalData,
      `fields used but declared by no system, categories unknown: ${sorted(undeclaredFields).join(', ')}`,
    );
  }
  if (uncategorisedFields.size > 0) {
    gap(
      ROPA_COLUMNS.personalData,
      `fields used without data categories: ${sorted(uncategorisedFields).join(', ')}`,
    );
  }
  return usedBySystem;
}

/** Art. 30(1)(d): processors, then direct recipients of flows; by name, in the order found. */
function findRecipients(
  usedBySystem: ReadonlyMap<string, ReadonlySet<string>>,
  processingSystems: readonly string[],
  context: Context,
  gap: Gap,
): Map<string, RecipientDraft> {
  const { categories: taxonomy } = context.input;
  const recipients = new Map<string, RecipientDraft>();
  const addRecipient = (name: string, received: Iterable<string>): void => {
    let draft = recipients.get(name);
    if (!draft) {
      const system = context.systems.get(name);
      draft = {
        system: name,
        team: system?.team ?? '',
        thirdParty: system?.thirdParty ?? false,
        country: system?.country,
        declared: system !== undefined,
        categories: new Set(),
      };
      recipients.set(name, draft);
    }
    for (const category of received) draft.categories.add(category);
  };
  for (const name of processingSystems) {
    const system = context.systems.get(name);
    if (!system) {
      gap(
        ROPA_COLUMNS.recipients,
        `system "${name}" used data under the policy but is not declared; who runs it and where is unknown`,
      );
    } else if (system.thirdParty) {
      addRecipient(name, usedBySystem.get(name) ?? []);
    }
  }
  for (const flow of context.input.snapshot.flows) {
    const used = usedBySystem.get(flow.from);
    if (!used || flow.to === flow.from) continue;
    const target = context.systems.get(flow.to);
    if (usedBySystem.has(flow.to) && target && !target.thirdParty) continue;
    const received = new Set<string>();
    for (const category of used) {
      for (const carried of flow.categories) {
        if (taxonomy.covers(carried, category)) received.add(category);
        else if (taxonomy.covers(category, carried)) received.add(carried);
      }
    }
    if (received.size > 0) addRecipient(flow.to, received);
  }
  return recipients;
}

/** The recipients as the row lists them, and as categories of recipients; gaps for undeclared ones. */
function recipientsOnRecord(
  recipients: ReadonlyMap<string, RecipientDraft>,
  gap: Gap,
): { recipientList: RopaRecipient[]; recipientCategories: string[] } {
  const recipientList: RopaRecipient[] = [...recipients.values()]
    .sort((a, b) => byCodeUnit(a.system, b.system))
    .map((draft) => ({
      system: draft.system,
      team: draft.team,
      thirdParty: draft.thirdParty,
      ...(draft.country ? { country: draft.country } : {}),
      categories: sorted(draft.categories),
    }));
  for (const draft of recipients.values()) {
    if (!draft.declared) {
      gap(
        ROPA_COLUMNS.recipients,
        `recipient "${draft.system}" is not a declared system; who runs it and where is unknown`,
      );
    }
  }
  const recipientCategories = sorted(
    [...recipients.values()].map((draft) =>
      !draft.declared
        ? `undeclared: ${draft.system}`
        : draft.thirdParty
          ? `third party: ${draft.system}${draft.country ? ` (${draft.country})` : ''}`
          : `internal: team ${draft.team}`,
    ),
  );
  return { recipientList, recipientCategories };
}

/** Art. 30(1)(e): the involved systems (sorted) that process data outside the EEA. */
function findTransfers(involved: readonly string[], context: Context, gap: Gap): RopaTransfer[] {
  const transfers: RopaTransfer[] = [];
  for (const name of involved) {
    const system = context.systems.get(name);
    if (!system) continue;
    if (!system.country) {
      if (system.thirdParty) {
        gap(
          ROPA_COLUMNS.transfers,
          `third party "${name}" has no country declared; whether data leaves the EEA is unknown`,
        );
      }
      continue;
    }
    if (isEeaCountry(system.country)) continue;
    const safeguards = system.safeguards?.trim();
    transfers.push({ system: name, country: system.country, ...(safeguards ? { safeguards } : {}) });
    if (!safeguards) {
      gap(
        ROPA_COLUMNS.transfers,
        `"${name}" processes data in ${system.country}, outside the EEA, without a declared safeguard (Art. 46)`,
      );
    }
  }
  return transfers;
}

// CSV ---------------------------------------------------------------------------------------

export const ROPA_CSV_HEADER: readonly string[] = [
  'policy',
  'status',
  ROPA_COLUMNS.controller,
  ROPA_COLUMNS.jointControllers,
  ROPA_COLUMNS.representative,
  ROPA_COLUMNS.dpo,
  ROPA_COLUMNS.purposes,
  'description',
  ROPA_COLUMNS.dataSubjects,
  ROPA_COLUMNS.personalData,
  ROPA_COLUMNS.recipients,
  ROPA_COLUMNS.transfers,
  ROPA_COLUMNS.erasure,
  ROPA_COLUMNS.security,
  'legal basis',
  'retention',
  'reviewed on',
  'last changed',
];

const LIST = '; ';

function contactText(contact: Contact | undefined): string {
  if (!contact) return '';
  return [contact.name, contact.email, contact.phone, contact.address]
    .filter((part): part is string => !!part)
    .join(', ');
}

/**
 * The report as CSV: a header, then one line per row, lists joined with "; ", CRLF line ends.
 * The controller columns repeat on every line so that each line reads on its own after filtering.
 */
export function ropaCsv(report: RopaReport): string {
  const controller = contactText(report.controller);
  const jointControllers = report.jointControllers.map(contactText).join(LIST);
  const representative = contactText(report.representative);
  const dpo = contactText(report.dpo);
  const special = (row: RopaRow) => new Set(row.specialCategories);
  return toCsv(
    ROPA_CSV_HEADER,
    report.rows.map((row) => {
      const specialCategories = special(row);
      return [
        row.policy,
        row.status,
        controller,
        jointControllers,
        representative,
        dpo,
        row.purposeDescription ? `${row.purpose}: ${row.purposeDescription}` : row.purpose,
        row.description,
        row.dataSubjects.join(LIST),
        row.personalDataCategories
          .map((category) => (specialCategories.has(category) ? `${category} (Art. 9)` : category))
          .join(LIST),
        row.recipientCategories.join(LIST),
        row.transfers
          .map(
            (transfer) =>
              `${transfer.system}: ${transfer.country}, ${transfer.safeguards ?? 'no safeguards'}`,
          )
          .join(LIST),
        row.erasureTimeLimits.length > 0
          ? row.erasureTimeLimits.map((limit) => `${limit.category}: ${limit.retention}`).join(LIST)
          : row.retention,
        row.securityMeasures.join(LIST),
        row.legalBasis,
        row.retention,
        row.reviewedOn,
        row.lastChangedAt,
      ];
    }),
  );
}
