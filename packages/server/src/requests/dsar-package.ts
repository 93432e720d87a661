/**
 * The answer to a data subject access request, for the person: what was found, where, and the
 * values. Rendered as JSON (machine-readable, GDPR Art. 15(3) "commonly used electronic form")
 * and as a self-contained HTML page a person can read without tools.
 */
export interface DsarPackage {
  readonly requestId: string;
  readonly receivedAt: string;
  readonly completedAt?: string;
  readonly generatedAt: string;
  readonly controller?: string;
  /** Each system or database that answered, with its records. */
  readonly sources: readonly DsarSource[];
}

export interface DsarSource {
  readonly datasource: string;
  readonly records: readonly { readonly pk: string; readonly values: Readonly<Record<string, unknown>> }[];
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

/** One page, no scripts, no external resources: safe to send as a file or an attachment. */
export function renderDsarPackageHtml(dsar: DsarPackage): string {
  const sections = dsar.sources.map((source) => {
    const columns = [...new Set(source.records.flatMap((record) => Object.keys(record.values)))];
    const head = columns.map((column) => `<th scope="col">${escapeHtml(column)}</th>`).join('');
    const rows = source.records
      .map(
        (record) =>
          `<tr>${columns.map((column) => `<td>${escapeHtml(display(record.values[column]))}</td>`).join('')}</tr>`,
      )
      .join('\n');
    const count = `${source.records.length} record${source.records.length === 1 ? '' : 's'}`;
    return `<section>
<h2>${escapeHtml(source.datasource)} <small>(${count})</small></h2>
<table><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>
</section>`;
  });
  const empty =
    dsar.sources.length === 0 ? '<p>We hold no records about you in the systems searched.</p>' : '';
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
${empty}${sections.join('\n')}
</body></html>
`;
}
