/**
 * Output for people and for scripts: every listing is a table with a header row (columns padded to
 * the widest cell), and every command's `--json` prints the same data as JSON.
 */
export type Cell = string | number | boolean | null | undefined;

/** A table with a header row; `empty` is printed instead when there are no rows. */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], empty = '(none)'): string {
  if (rows.length === 0) return empty;
  const text = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...text.map(line)].join('\n');
}

function cellText(value: Cell): string {
  if (value === null || value === undefined || value === '') return '-';
  return String(value);
}

/** Print `data` as JSON with `--json`, else the human form. */
export function emit(json: boolean | undefined, data: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : human());
}

/** The `--json` option's help text, the same on every command. */
export const JSON_HELP = 'print JSON instead of a table or text';

/** ISO time of epoch ms, or "-". */
export function iso(ms: number | null | undefined): string {
  return typeof ms === 'number' ? new Date(ms).toISOString() : '-';
}
