/** Number and time formatting shared by the views. */

export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  if (value === 0) return '$0';
  if (Math.abs(value) < 0.01) return `$${value.toFixed(6).replace(/0+$/, '')}`;
  return `$${value.toFixed(value < 100 ? 4 : 2).replace(/\.?0+$/, '')}`;
}

export function int(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : Math.round(value).toLocaleString('en-US');
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h}h ${String(m % 60).padStart(2, '0')}m` : `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined) return '—';
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export function time(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  const d = new Date(at);
  return d.toLocaleTimeString('en-GB', { hour12: false });
}

export function dateTime(at: number | null | undefined): string {
  if (at === null || at === undefined) return '—';
  const d = new Date(at);
  return `${d.toISOString().slice(0, 10)} ${d.toLocaleTimeString('en-GB', { hour12: false })}`;
}

export function ago(at: number, now: number): string {
  return `${duration(now - at)} ago`;
}

export function percent(part: number, whole: number | undefined): number | undefined {
  if (!whole || whole <= 0) return undefined;
  return Math.min(100, Math.max(0, (part / whole) * 100));
}
