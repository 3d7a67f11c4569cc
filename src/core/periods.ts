/** Periodic budget windows, in UTC. */
export type Period = 'day' | 'month';

const cache: Record<Period, { from: number; to: number; id: string }> = {
  day: { from: 0, to: 0, id: '' },
  month: { from: 0, to: 0, id: '' },
};

/**
 * Forgets the remembered window. For the mutation runner only (test/setup/mutation-state.ts): its
 * workers keep modules loaded between mutants, so a mutant of `windowId` could leave a wrong entry here
 * for the next mutant's tests to read.
 */
export function forgetWindowCache(): void {
  for (const period of ['day', 'month'] as const) cache[period] = { from: 0, to: 0, id: '' };
}

/** The window id a time falls in: `2026-11-26` for a day, `2026-11` for a month. */
export function windowId(period: Period, now: number): string {
  // Formatting a date costs microseconds; the answer changes once a day, so remember it.
  const hit = cache[period];
  if (now >= hit.from && now < hit.to) return hit.id;
  const iso = new Date(now).toISOString();
  const id = period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7);
  const d = new Date(now);
  const from = period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  cache[period] = { from, to: windowEnd(period, now), id };
  return id;
}

/** When the window containing `now` ends (epoch ms). */
export function windowEnd(period: Period, now: number): number {
  const d = new Date(now);
  return period === 'day' ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1) : Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}
