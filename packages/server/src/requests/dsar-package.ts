import type { ConsentPurposeState, ConsentRecord, SubjectField } from '@lethe/api';

/**
 * The answer to a data subject access request, for the person: what was found, where, and the
 * values, and what Lethe itself knows about them (GDPR Art. 15(1): purposes, categories,
 * recipients, retention, sources, consent). Rendered as JSON (machine-readable, Art. 15(3)
 * "commonly used electronic form") and as a self-contained HTML page a person can read without tools.
 */
export interface DsarPackage {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly completedAt?: string;
  readonly generatedAt: string;
  readonly controller?: string;
  /** Each system or database that answered, with its records. */
  readonly sources: readonly DsarSource[];
  /** Files the teams attached to their tickets (exports from their systems), whole. */
  readonly files: readonly DsarFile[];
  /** Systems not searched: a DPO skipped them, with the reason given. */
  readonly skipped: readonly DsarSkipped[];
  /** What Lethe's own records held about the subject when the request completed. */
  readonly lethe: LetheKnowledge;
  /** True only when nothing was found anywhere: no system's records and nothing in Lethe's own. */
  readonly nothingHeld: boolean;
}

/**
 * Lethe's own records about the person, as they stood when the request completed: `subject`
 * when the request named a subject id, `no-subject-id` when it did not (Lethe's records are kept
 * by subject id and are not guessed from an e-mail), `not-captured` for a request completed
 * before Lethe took this snapshot.
 */
export type LetheKnowledge =
  { readonly status: 'no-subject-id' } | { readonly status: 'not-captured' } | LetheSubjectKnowledge;

export interface LetheSubjectKnowledge {
  readonly status: 'subject';
  readonly subject: string;
  readonly capturedAt: string;
  /** When the last of the subject's data is due for deletion, and what decides it. */
  readonly expiry?: {
    readonly expiresAt: string;
    readonly field: string;
    readonly policy: string;
    readonly system: string;
    /** The field kept longest waits for the subject's event of this name (`expiresAt` is then 9999-12-31). */
    readonly waitingFor?: string;
  };
  /** Each field held: its categories, where it lives, its expiry and every use of it. */
  readonly fields: readonly KnownField[];
  /** The policies the data was used under: purpose, legal basis, retention. */
  readonly purposes: readonly KnownPurpose[];
  /** Declared flows out of the systems holding the data that carry some of it. */
  readonly recipients: readonly KnownRecipient[];
  /** The systems and datasets that hold the data (where it came from). */
  readonly sources: readonly KnownSource[];
  /** Erasures the systems confirmed. */
  readonly erasures: readonly KnownErasure[];
  /** Consent per purpose and its whole history with the proof of each grant and withdrawal. */
  readonly consent: {
    readonly purposes: Readonly<Record<string, ConsentPurposeState>>;
    readonly history: readonly ConsentRecord[];
  };
}

export type KnownField = SubjectField & {
  readonly categories: readonly string[];
  /** The dataset that declares it and the system that owns that dataset. */
  readonly dataset?: string;
  readonly holder?: string;
};

export interface KnownPurpose {
  readonly policy: string;
  readonly purpose: string;
  readonly legalBasis: string;
  readonly retention: string;
  /** What the retention counts from (docs/retention.md "Aging"); absent in older snapshots: last use. */
  readonly since?: string;
  readonly description?: string;
  readonly fields: readonly string[];
}

export interface KnownRecipient {
  readonly from: string;
  readonly to: string;
  readonly team?: string;
  readonly thirdParty: boolean;
  readonly country?: string;
  readonly safeguards?: string;
  readonly categories: readonly string[];
}

export interface KnownSource {
  readonly system: string;
  readonly team?: string;
  readonly datasets: readonly { readonly dataset: string; readonly fields: readonly string[] }[];
  /** Systems that used the data without holding a dataset of it. */
  readonly usedOnly: boolean;
}

export interface KnownErasure {
  readonly field: string;
  readonly system: string;
  readonly erasedAt: string;
  readonly recordedAt: string;
}

/** Whether Lethe's own records hold anything about the subject. */
export function letheKnowsAnything(knowledge: LetheKnowledge): boolean {
  if (knowledge.status !== 'subject') return false;
  return knowledge.fields.length > 0 || knowledge.erasures.length > 0 || knowledge.consent.history.length > 0;
}

export interface DsarFile {
  /** The rights client, connector or team whose ticket attached it. */
  readonly source: string;
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  /** SHA-256 of the bytes, hex. */
  readonly sha256: string;
  readonly contentBase64: string;
}

export interface DsarSkipped {
  readonly source: string;
  readonly system?: string;
  readonly reason: string;
}

export interface DsarSource {
  readonly datasource: string;
  readonly records: readonly {
    readonly pk: string;
    readonly values: Readonly<Record<string, unknown>>;
    /** `shared`: a row linked to the person that other people share (an address); not erased. */
    readonly kept?: string;
  }[];
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function display(value: unknown): string {
  if (value === null || value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * True only when no system answered with records or a file and Lethe's own records hold nothing
 * either.
 */
export function nothingHeld(
  sources: readonly DsarSource[],
  files: readonly DsarFile[],
  lethe: LetheKnowledge,
): boolean {
  return (
    sources.length === 0 && files.length === 0 && lethe.status === 'subject' && !letheKnowsAnything(lethe)
  );
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((cell) => `<th scope="col">${escapeHtml(cell)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`);
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${body.join('\n')}\n</tbody></table>`;
}

/** How the package marks a row the person is linked to but does not own. */
export const SHARED_NOTE = 'linked to you, shared with others';

function sourceSection(source: DsarSource): string {
  const columns = [...new Set(source.records.flatMap((record) => Object.keys(record.values)))];
  const anyKept = source.records.some((record) => record.kept !== undefined);
  const rows = source.records.map((record) => [
    ...(anyKept ? [record.kept === 'shared' ? SHARED_NOTE : (record.kept ?? '')] : []),
    ...columns.map((column) => display(record.values[column])),
  ]);
  const count = `${source.records.length} record${source.records.length === 1 ? '' : 's'}`;
  return `<section>
<h2>${escapeHtml(source.datasource)} <small>(${count})</small></h2>
${table(anyKept ? ['', ...columns] : columns, rows)}
</section>`;
}

/** The files teams attached, each a download inside the page (no request leaves it). */
function filesSection(files: readonly DsarFile[]): string {
  if (files.length === 0) return '';
  const items = files.map((file) => {
    const href = `data:${file.contentType};base64,${file.contentBase64}`;
    return `<li><a download="${escapeHtml(file.name)}" href="${escapeHtml(href)}">${escapeHtml(file.name)}</a> <small>(${escapeHtml(file.contentType)}, ${file.size} bytes, from ${escapeHtml(file.source)}, SHA-256 ${escapeHtml(file.sha256)})</small></li>`;
  });
  return `<section>
<h2>Files</h2>
<ul>
${items.join('\n')}
</ul>
</section>`;
}

/** Systems not searched, and why: the person is told, not left to assume they hold nothing. */
function skippedSection(skipped: readonly DsarSkipped[]): string {
  if (skipped.length === 0) return '';
  return `<section>
<h2>Systems not searched</h2>
${table(
  ['System', 'Why'],
  skipped.map((entry) => [entry.system ?? entry.source, entry.reason]),
)}
</section>`;
}

/** Lethe's own records: what is held, why, for how long, who receives it, and consent. */
function letheSection(lethe: LetheKnowledge): string {
  const title = '<h2>What our privacy records say about you</h2>';
  if (lethe.status === 'no-subject-id') {
    return `<section>${title}
<p>This request named no subject id. Our privacy records (which data is used for which purpose, how long it is kept, consent) are kept by subject id, so they were not searched; ask again with your customer or account id to receive them.</p>
</section>`;
  }
  if (lethe.status === 'not-captured') {
    return `<section>${title}<p>These records were not captured for this request.</p></section>`;
  }
  const intro = `<p>As they stood on ${escapeHtml(lethe.capturedAt)}, for the id <strong>${escapeHtml(lethe.subject)}</strong>.</p>`;
  if (!letheKnowsAnything(lethe))
    return `<section>${title}${intro}<p>They hold nothing about this id.</p></section>`;
  const parts = [title, intro];
  if (lethe.expiry) {
    const { expiresAt, field, policy, waitingFor } = lethe.expiry;
    parts.push(
      waitingFor === undefined
        ? `<p>All of it is due for deletion by <strong>${escapeHtml(expiresAt)}</strong> (kept longest: ${escapeHtml(field)}, under ${escapeHtml(policy)}).</p>`
        : `<p>Some of it is kept until <strong>${escapeHtml(waitingFor)}</strong> happens, then for the period its policy names (kept longest: ${escapeHtml(field)}, under ${escapeHtml(policy)}).</p>`,
    );
  }
  if (lethe.fields.length > 0) {
    const uses = (field: KnownField) =>
      field.uses
        .map((use) => `${use.system} for ${use.policy}: ${use.firstUseAt} – ${use.lastUseAt} (${use.count}×)`)
        .join('; ');
    parts.push(
      '<h3>The data we hold</h3>',
      table(
        ['Data', 'Kind of data', 'Held in', 'Used by, for, when', 'Kept until', 'Erased'],
        lethe.fields.map((field) => [
          field.field,
          field.categories.join(', '),
          field.holder ?? '—',
          uses(field),
          field.waitingFor === undefined
            ? field.expiresAt
            : `once ${field.waitingFor} happens, then per the policy`,
          field.erasedAt ?? '—',
        ]),
      ),
    );
  }
  if (lethe.purposes.length > 0) {
    parts.push(
      '<h3>Why we use it</h3>',
      table(
        ['Purpose', 'Policy', 'Legal basis', 'Kept for', 'Data'],
        lethe.purposes.map((p) => [
          p.purpose,
          p.description ?? p.policy,
          p.legalBasis,
          keptFor(p.retention, p.since),
          p.fields.join(', '),
        ]),
      ),
    );
  }
  if (lethe.recipients.length > 0) {
    parts.push(
      '<h3>Who receives it</h3>',
      table(
        ['From', 'To', 'Team', 'Kind of data', 'Another company', 'Country', 'Safeguards'],
        lethe.recipients.map((r) => [
          r.from,
          r.to,
          r.team ?? '—',
          r.categories.join(', '),
          r.thirdParty ? 'yes' : 'no',
          r.country ?? '—',
          r.safeguards ?? '—',
        ]),
      ),
    );
  }
  if (lethe.sources.length > 0) {
    parts.push(
      '<h3>Where it comes from</h3>',
      table(
        ['System', 'Team', 'Datasets'],
        lethe.sources.map((source) => [
          source.system,
          source.team ?? '—',
          source.usedOnly
            ? 'uses it without keeping a dataset of it'
            : source.datasets.map((d) => `${d.dataset}: ${d.fields.join(', ')}`).join('; '),
        ]),
      ),
    );
  }
  if (lethe.erasures.length > 0) {
    parts.push(
      '<h3>Erasures already confirmed</h3>',
      table(
        ['Data', 'System', 'Erased', 'Confirmed'],
        lethe.erasures.map((e) => [e.field, e.system, e.erasedAt, e.recordedAt]),
      ),
    );
  }
  if (lethe.consent.history.length > 0) {
    parts.push(
      '<h3>Your consent and its record</h3>',
      table(
        ['When', 'Purpose', 'Decision', 'Notice', 'How', 'Channel', 'Source', 'Recorded'],
        lethe.consent.history.map((c) => [
          c.at,
          c.purpose,
          c.granted ? 'granted' : 'withdrawn',
          [c.notice, c.noticeVersion].filter((v) => v !== undefined).join(' ') || '—',
          c.method ?? '—',
          c.channel ?? '—',
          c.source ?? '—',
          c.recordedAt,
        ]),
      ),
    );
  }
  return `<section>\n${parts.join('\n')}\n</section>`;
}

/** One page, no scripts, no external resources: safe to send as a file or an attachment. */
export function renderDsarPackageHtml(dsar: DsarPackage): string {
  const empty = dsar.nothingHeld
    ? '<p>We hold no records about you in the systems searched.</p>'
    : dsar.sources.length === 0 && dsar.files.length === 0
      ? '<p>The systems searched returned no records about you.</p>'
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Your data — request ${escapeHtml(dsar.requestId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eee}small{color:#555;font-weight:normal}</style>
</head><body>
<h1>The personal data we hold about you</h1>
<p>Request <strong>${escapeHtml(dsar.requestId)}</strong>, received ${escapeHtml(dsar.receivedAt)}${
    dsar.completedAt ? `, completed ${escapeHtml(dsar.completedAt)}` : ''
  }${dsar.controller ? `, by ${escapeHtml(dsar.controller)}` : ''}. Generated ${escapeHtml(dsar.generatedAt)}.</p>
${empty}${dsar.sources.map(sourceSection).join('\n')}
${filesSection(dsar.files)}${skippedSection(dsar.skipped)}
${letheSection(dsar.lethe)}
</body></html>
`;
}

/** A policy's retention as the person reads it: the period and what it counts from. */
function keptFor(retention: string, since = 'last-use'): string {
  if (since === 'first-use') return `${retention} from the first use`;
  if (since.startsWith('event:')) return `${retention} from ${since.slice('event:'.length)}`;
  if (since.startsWith('until:')) return `until ${since.slice('until:'.length)}`;
  return `${retention} from the last use`;
}
