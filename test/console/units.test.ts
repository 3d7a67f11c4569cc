import { describe, expect, it } from 'vitest';
import { bandsOf, createSessionKeeper, cumulativeSpend, periodFor, periodRange, startConsoleGateway, until, ADMIN_TOKEN } from './helpers.ts';

describe('state history as bands', () => {
  it('cuts the range at each transition; before the first, the state it left; without any, the current state throughout', () => {
    expect(bandsOf([], 0, 100, 'OK')).toEqual([{ from: 0, to: 100, state: 'OK' }]);
    const t = [
      { time: 20, from: 'INSUFFICIENT_DATA', to: 'ALARM' },
      { time: 50, from: 'ALARM', to: 'OK' },
    ];
    expect(bandsOf(t, 0, 100, 'OK')).toEqual([
      { from: 0, to: 20, state: 'INSUFFICIENT_DATA' },
      { from: 20, to: 50, state: 'ALARM' },
      { from: 50, to: 100, state: 'OK' },
    ]);
    // Two changes at one instant leave no empty band.
    expect(
      bandsOf(
        [
          { time: 10, from: 'closed', to: 'open' },
          { time: 10, from: 'open', to: 'closed' },
        ],
        0,
        30,
        'closed',
      ),
    ).toEqual([
      { from: 0, to: 10, state: 'closed' },
      { from: 10, to: 30, state: 'closed' },
    ]);
  });

  it('ends with the state now even when it began in the same millisecond as the query (was dropped)', () => {
    const t = [
      { time: 20, from: 'INSUFFICIENT_DATA', to: 'ALARM' },
      { time: 50, from: 'ALARM', to: 'OK' },
    ];
    expect(bandsOf(t, 0, 50, 'OK').map((b) => b.state)).toEqual(['INSUFFICIENT_DATA', 'ALARM', 'OK']);
    expect(bandsOf(t, 0, 50, 'OK').at(-1)).toEqual({ from: 50, to: 50, state: 'OK' });
    // A change stamped a little after the query's clock reading still reads as the state now.
    expect(bandsOf(t, 0, 49, 'OK').at(-1)).toEqual({ from: 50, to: 50, state: 'OK' });
  });
});

describe('periods of a chart', () => {
  it('picks the shortest nice period that is a multiple of the metric resolution', () => {
    expect(periodFor(15 * 60_000, 10_000)).toBe(10_000);
    expect(periodFor(3_600_000, 10_000)).toBe(30_000);
    expect(periodFor(86_400_000, 10_000)).toBe(600_000);
    expect(periodFor(3_600_000, 15_000)).toBe(30_000);
    expect(periodFor(3_600_000, 7_000) % 7_000).toBe(0);
  });

  it('ends with the period that holds now', () => {
    const r = periodRange(1_000_005_000, 60_000, 10_000);
    expect(r).toMatchObject({ to: 1_000_010_000, from: 1_000_010_000 - 60_000, count: 6 });
    expect(r.times.at(-1)).toBe(1_000_000_000);
  });
});

describe('a budget spend line', () => {
  it('is cumulative within the window and ends at what the ledger holds, even when the metrics saw less', () => {
    const range = periodRange(95, 100, 10); // periods starting 0, 10, ..., 90
    const costs = [1, 1, 1, 1, 1, 0, 0, 2, 0, 1];
    // The window began at 30; the ledger has 10 (the metrics saw 4 of it: a restart lost the rest).
    const line = cumulativeSpend(10, costs, range, 30);
    expect(line.slice(0, 3)).toEqual([null, null, null]); // ended by the time the window began
    expect(line.at(-1)).toBe(10);
    expect(line.at(-2)).toBe(9); // minus the last period's 1
    expect(line[6]).toBe(7); // minus 2 and 1 after it
    expect(line[3]).toBe(6); // the window's first period: everything after it removed
  });
});

describe('console sessions', () => {
  const keeper = createSessionKeeper('a-secret-admin-token', 1000);

  it('a cookie proves a session until it expires or is revoked; the CSRF token is the session’s own', () => {
    const { session, value } = keeper.issue(10_000, 'alice');
    expect(keeper.read(value, 10_500)).toEqual(session);
    expect(keeper.read(value, 11_000)).toBeUndefined();
    expect(keeper.csrfMatches(session, keeper.csrfToken(session))).toBe(true);
    expect(keeper.csrfMatches(session, keeper.csrfToken(keeper.issue(10_000).session))).toBe(false);
    expect(keeper.csrfMatches(session, undefined)).toBe(false);
    keeper.revoke(session, 10_600);
    expect(keeper.read(value, 10_700)).toBeUndefined();
  });

  it('another admin token signs differently (changing the token signs everyone out); the token check is exact', () => {
    const { value } = keeper.issue(10_000);
    expect(createSessionKeeper('another-token', 1000).read(value, 10_100)).toBeUndefined();
    expect(keeper.tokenMatches('a-secret-admin-token')).toBe(true);
    for (const wrong of ['', 'a-secret-admin-toke', 'a-secret-admin-token ', 'A-secret-admin-token']) expect(keeper.tokenMatches(wrong)).toBe(false);
  });
});

describe('closing the gateway', () => {
  it('ends open event streams at once instead of waiting out the grace period', async () => {
    const gw = await startConsoleGateway();
    const res = await fetch(`${gw.url}/admin/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const reader = res.body!.getReader();
    let ended = false;
    const reading = (async () => {
      for (;;) if ((await reader.read()).done) break;
      ended = true;
    })();
    const started = Date.now();
    await gw.gateway.close(20_000);
    await until(() => ended, 5000, 'the stream to end');
    // Far under the 20 s grace: the stream was ended, not cut at the deadline.
    expect(Date.now() - started).toBeLessThan(10_000);
    await reading;
    await gw.close();
  });
});
