/**
 * The manifest: the data map and policies as code, applied as one unit (`POST /v1/manifest`,
 * `lethe apply`) and exported back (`GET /v1/manifest`, `lethe export`). Lists of named entries,
 * so that a diff reads like the change it makes:
 *
 *   policies:
 *     - name: user-account-access
 *       purpose: essential.account
 *       retention: P2Y
 *       legalBasis: contract
 *   systems:
 *     - name: accounts
 *       team: identity
 *       datasets:
 *         - name: accounts
 *           fields:
 *             - { name: email, categories: [user.contact.email] }
 */
import { Type, type Static, type TObject } from 'typebox';
import { Name, Reason } from './common.js';
import { FlowInput, Organisation, RightsClientInput, TaxonomyExtensions, TeamInput } from './datamap.js';
import { PrometheusSourceInput, ScrapeSourceInput } from './discovery.js';
import { PolicyInput, SystemInput } from './retention.js';
import { ConnectorInput } from './requests.js';
import { ContractName, DataContractInput } from './streams.js';
import { HoldInput } from './holds.js';
import { WebhookInput } from './webhooks.js';

const strict = { additionalProperties: false } as const;
/** Every entry's name obeys the API's rule for names: a stored entry can always be addressed. */
const Named = Type.Object({ name: Name });
const named = <T extends TObject>(schema: T) => Type.Interface([Named, schema], {}, strict);

/** A discovery source in a manifest: `kind: prometheus` with a `url`, or `kind: scrape` with `targets`. */
export const ManifestSource = Type.Interface(
  [
    Named,
    Type.Object({ kind: Type.Union([Type.Literal('prometheus'), Type.Literal('scrape')]) }),
    Type.Partial(Type.Omit(PrometheusSourceInput, ['name'])),
    Type.Partial(Type.Pick(ScrapeSourceInput, ['targets'])),
  ],
  {},
  strict,
);
export type ManifestSource = Static<typeof ManifestSource>;

export const ManifestFlow = Type.Interface([Type.Object({ from: Name, to: Name }), FlowInput], {}, strict);
export type ManifestFlow = Static<typeof ManifestFlow>;

export const ManifestContract = Type.Interface(
  [Type.Object({ name: ContractName }), DataContractInput],
  {},
  strict,
);
export type ManifestContract = Static<typeof ManifestContract>;

export const Manifest = Type.Object(
  {
    organisation: Type.Optional(Organisation),
    taxonomy: Type.Optional(TaxonomyExtensions),
    teams: Type.Optional(Type.Array(named(TeamInput))),
    /** Without `reason`: a manifest's reason is given once for the whole apply (`ManifestQuery.reason`). */
    policies: Type.Optional(Type.Array(named(Type.Omit(PolicyInput, ['reason'])))),
    systems: Type.Optional(Type.Array(named(SystemInput))),
    flows: Type.Optional(Type.Array(ManifestFlow)),
    clients: Type.Optional(Type.Array(named(RightsClientInput))),
    sources: Type.Optional(Type.Array(ManifestSource)),
    /** SQL connectors for rights requests; their connection strings stay in the environment. */
    connectors: Type.Optional(Type.Array(named(ConnectorInput))),
    /** Data contracts of privacy streams, one entry per version; versions are immutable. */
    contracts: Type.Optional(Type.Array(ManifestContract)),
    /**
     * Legal holds (docs/retention.md "Legal holds"). Applying places or changes them; `--prune`
     * never releases one the manifest omits (a deleted line must not end a legal obligation).
     */
    holds: Type.Optional(Type.Array(named(HoldInput))),
    /**
     * Webhook subscriptions (docs/webhooks.md), never with a secret: the server makes one when it
     * creates a subscription and the apply's result shows it once (`ManifestChange.secret`).
     */
    webhooks: Type.Optional(Type.Array(WebhookInput)),
  },
  strict,
);
export type Manifest = Static<typeof Manifest>;

export const MANIFEST_SECTIONS = [
  'taxonomy',
  'organisation',
  'teams',
  'policies',
  'systems',
  'flows',
  'clients',
  'sources',
  'connectors',
  'contracts',
  'holds',
  'webhooks',
] as const;
export type ManifestSection = (typeof MANIFEST_SECTIONS)[number];

export const ManifestQuery = Type.Object(
  {
    /** Report what would change, change nothing. */
    dryRun: Type.Optional(Type.Boolean()),
    /** Remove (policies: retire) what the manifest does not list; legal holds are kept. */
    prune: Type.Optional(Type.Boolean()),
    /**
     * Why: recorded on every policy version the apply creates; "applied from manifest" when left
     * out (`lethe apply` names its files instead).
     */
    reason: Type.Optional(Reason),
  },
  strict,
);

export const ManifestChange = Type.Object({
  section: Type.String(),
  /** The entry's name; `from -> to` for flows. */
  name: Type.String(),
  action: Type.Union([
    Type.Literal('created'),
    Type.Literal('changed'),
    Type.Literal('unchanged'),
    Type.Literal('removed'),
    /** Not listed, but not removed by `prune` either: a legal hold ends only by an explicit release. */
    Type.Literal('kept'),
  ]),
  /** Where the entry is in the manifest (`systems[2]`); absent for removals. */
  path: Type.Optional(Type.String()),
  /** What the entry now means that it may not have meant before (a connector's legacy links). */
  notes: Type.Optional(Type.Array(Type.String())),
  /** A webhook the apply created: its signing secret, shown this once (never in a dry run). */
  secret: Type.Optional(Type.String()),
});
export type ManifestChange = Static<typeof ManifestChange>;

export const ManifestResult = Type.Object({
  dryRun: Type.Boolean(),
  prune: Type.Boolean(),
  changes: Type.Array(ManifestChange),
  summary: Type.Object({
    created: Type.Integer(),
    changed: Type.Integer(),
    unchanged: Type.Integer(),
    removed: Type.Integer(),
    kept: Type.Integer(),
  }),
});
export type ManifestResult = Static<typeof ManifestResult>;
