/** `status` is due, upcoming or held at download time; `hold` names the hold of a held row. */
const CSV_COLUMNS = ['expiresAt', 'subject', 'field', 'policy', 'system', 'status', 'hold'] as const;

/** The feed's NDJSON lines as CSV (RFC 4180 quoting), one header row. */
export function ndjsonToCsv(text: string): string {
  const quote = (value: unknown) => {
    const cell = value === undefined || value === null ? '' : String(value);
    return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
  };
  const rows = text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .map((item) => CSV_COLUMNS.map((column) => quote(item[column])).join(','));
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}
