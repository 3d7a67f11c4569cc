/** Periodic budget windows, in UTC. */
export type Period = 'day' | 'month';

/** The window id a time falls in: `2026-11-26` for a day, `2026-11` for a month. */
export function windowId(period: Period, now: number): string {
  const iso = new Date(now).toISOString();
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
}

/** When the window containing `now` ends (epoch ms). */
export function windowEnd(period: Period, now: number): number {
  const d = new Date(now);
  return period === 'day'
    ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
