/**
 * Durations as written in config: a number of milliseconds, or a string such as `500ms`, `10s`,
 * `1m`, `2h`. Parsing is strict so a typo (`10 sec`) is a config error, not a silent default.
 */
export type Duration = number | string;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/** Milliseconds, or undefined when `value` is not a valid non-negative duration. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const match = PATTERN.exec(trimmed);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]]);
}

/** Like parseDuration, but throws a TypeError naming the bad value (for already-validated input). */
export function durationMs(value: Duration): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new TypeError(`invalid duration ${JSON.stringify(value)} (use ms, or e.g. "10s", "1m")`);
  return ms;
}
