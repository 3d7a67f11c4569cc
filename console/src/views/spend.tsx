import { api } from '../api.ts';
import { Chart, PALETTE } from '../chart.tsx';
import { ErrorBox, Select } from '../components.tsx';
import { dateTime, int, usd } from '../format.ts';
import { useInterval, useLiveReload, useLoad } from '../hooks.ts';
import { setQuery, type Location } from '../router.ts';

interface SpendSeries {
  id: string;
  scope: string;
  costUsd: number[];
  tokens: number[];
  totalCostUsd: number;
  totalTokens: number;
}

interface BudgetRow {
  scope: string;
  period: 'day' | 'month';
  window: string;
  resetsAt: string;
  limitUsd: number;
  usedUsd: number;
  reservedUsd: number;
  percentUsed: number;
  percentCommitted: number;
  alertAt: number[];
  windowStart: number;
  cumulative: Array<number | null> | null;
}

interface Spend {
  by: string;
  from: number;
  to: number;
  now: number;
  periodMs: number;
  times: number[];
  series: SpendSeries[];
  budgets: BudgetRow[];
}

const RANGES: Array<[string, string]> = [
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
];

function BudgetBar({ b }: { b: BudgetRow }) {
  const used = Math.min(100, b.percentUsed);
  const held = Math.max(0, Math.min(100, b.percentCommitted) - used);
  return (
    <div class="budget-bar" aria-hidden="true">
      <span class={`used ${b.percentUsed >= 100 ? 'full' : b.percentUsed >= 80 ? 'high' : ''}`} style={{ width: `${used}%` }} />
      <span class="held" style={{ width: `${held}%` }} />
      {b.alertAt.map((a) => (
        <i key={a} class="tick" style={{ left: `${Math.min(100, a * 100)}%` }} />
      ))}
    </div>
  );
}

/** Spend: cost and tokens over time per tenant, agent or model; each budget's period against its limit. */
export function SpendView({ loc }: { loc: Location }) {
  const by = loc.query.get('by') ?? 'tenant';
  const range = loc.query.get('range') ?? '1h';
  const { data, error, reload } = useLoad(() => api.get<Spend>('spend', { by, range }), `${by}|${range}`);
  useLiveReload((e) => e.type === 'call.allowed' || e.type === 'call.failed' || e.type === 'budget.threshold', reload, 2000);
  useInterval(reload, 30_000);
  const costSeries = data?.series.map((s, i) => ({ label: s.id, values: s.costUsd, color: PALETTE[i % PALETTE.length]! })) ?? [];
  const tokenSeries = data?.series.map((s, i) => ({ label: s.id, values: s.tokens, color: PALETTE[i % PALETTE.length]! })) ?? [];
  const period = data ? `${Math.round(data.periodMs / 1000)} s` : '';
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Spend</h1>
        <p class="muted">What agents spend over time, and each budget's current period against its limit.</p>
      </header>
      <div class="filters">
        <Select
          id="s-by"
          label="Group by"
          value={by}
          options={[
            ['tenant', 'Tenant'],
            ['agent', 'Agent'],
            ['model', 'Model'],
          ]}
          onChange={(v) => setQuery({ by: v })}
        />
        <Select id="s-range" label="Range" value={range} options={RANGES} onChange={(v) => setQuery({ range: v })} />
      </div>
      <ErrorBox error={error} />
      {data && (
        <>
          <div class="panel">
            <h2>Budgets this period</h2>
            {data.budgets.length === 0 ? (
              <p class="muted">No budgets are configured.</p>
            ) : (
              <div class="table-wrap" tabIndex={0}>
                <table class="grid" aria-label="Budgets">
                  <thead>
                    <tr>
                      <th scope="col">Scope</th>
                      <th scope="col">Period</th>
                      <th scope="col">Spent</th>
                      <th scope="col">Held</th>
                      <th scope="col">Limit</th>
                      <th scope="col">Used</th>
                      <th scope="col">Alerts at</th>
                      <th scope="col">Resets</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.budgets.map((b) => (
                      <tr key={`${b.scope}-${b.period}`} data-budget={`${b.scope}/${b.period}`}>
                        <td class="mono">{b.scope}</td>
                        <td>
                          {b.period} <span class="muted small">{b.window}</span>
                        </td>
                        <td class="num">{usd(b.usedUsd)}</td>
                        <td class="num">{usd(b.reservedUsd)}</td>
                        <td class="num">{usd(b.limitUsd)}</td>
                        <td class="budget-cell">
                          <span>{b.percentUsed.toFixed(2)}%</span>
                          <BudgetBar b={b} />
                        </td>
                        <td>{b.alertAt.map((a) => `${Math.round(a * 100)}%`).join(', ')}</td>
                        <td class="small">{dateTime(Date.parse(b.resetsAt))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </div>
          <div class="chart-grid">
            <Chart id="cost" title={`Cost per ${period} by ${by}`} times={data.times} series={costSeries} format={usd} />
            <Chart id="tokens" title={`Tokens per ${period} by ${by}`} times={data.times} series={tokenSeries} format={(v) => int(v)} />
          </div>
          <div class="chart-grid">
            {data.budgets
              .filter((b) => b.cumulative)
              .map((b) => (
                <Chart
                  key={`${b.scope}-${b.period}`}
                  id={`budget-${b.scope}-${b.period}`}
                  title={`${b.scope}: spend this ${b.period} against its ${usd(b.limitUsd)} budget`}
                  times={data.times.map((t) => t + data.periodMs)}
                  series={[
                    { label: 'spent', values: b.cumulative!, color: '#2563eb' },
                    { label: 'budget', values: data.times.map(() => b.limitUsd), color: '#dc2626', dash: [6, 4] },
                    ...b.alertAt
                      .filter((a) => a < 1)
                      .map((a) => ({ label: `alert ${Math.round(a * 100)}%`, values: data.times.map(() => b.limitUsd * a), color: '#d97706', dash: [2, 4] })),
                  ]}
                  format={usd}
                />
              ))}
          </div>
          <div class="panel">
            <h2>Totals over the range</h2>
            <div class="table-wrap" tabIndex={0}>
              <table class="grid" aria-label={`Totals by ${by}`}>
                <thead>
                  <tr>
                    <th scope="col">{by}</th>
                    <th scope="col">Cost</th>
                    <th scope="col">Tokens</th>
                  </tr>
                </thead>
                <tbody>
                  {data.series.map((s) => (
                    <tr key={s.id} data-total={s.id}>
                      <td class="mono">{s.id}</td>
                      <td class="num">{usd(s.totalCostUsd)}</td>
                      <td class="num">{int(s.totalTokens)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </>
      )}
    </section>
  );
}
