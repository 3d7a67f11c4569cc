import { useState } from 'preact/hooks';
import { actor, api } from '../api.ts';
import { Chart, type ChartBand } from '../chart.tsx';
import { Badge, Confirm, ErrorBox, Select } from '../components.tsx';
import { duration, int, time } from '../format.ts';
import { useInterval, useLiveReload, useLoad } from '../hooks.ts';
import { setQuery, type Location } from '../router.ts';

interface AlarmStatus {
  name: string;
  kind: 'metric' | 'composite';
  state: string;
  since: number;
  reason: string;
  lastEvaluatedAt?: number;
}

interface Transition {
  time: number;
  from: string;
  to: string;
  reason?: string;
}

interface AlarmHistory {
  alarm: AlarmStatus;
  metric: null | {
    scope: string;
    metric: string;
    statistic: string;
    periodMs: number;
    comparison: string;
    threshold: number;
    evaluationPeriods: number;
    datapointsToAlarm: number;
    times: number[];
    values: Array<number | null>;
  };
  transitions: Transition[];
  bands: ChartBand[];
  from: number;
  to: number;
  now: number;
}

interface BreakerRow {
  scope: string;
  kind: string;
  retryAfterMs: number | null;
  state: { kind: string; epoch: number; since: number; until?: number | null; by?: string; reason?: string; failures?: number };
  policy: { failureThreshold: number; cooldownMs: number; halfOpenProbes: number };
  transitions: Transition[];
  bands: ChartBand[];
}

const COMPARISON: Record<string, string> = {
  GreaterThanThreshold: '>',
  GreaterThanOrEqualToThreshold: '≥',
  LessThanThreshold: '<',
  LessThanOrEqualToThreshold: '≤',
};

const RANGES: Array<[string, string]> = [
  ['5m', 'Last 5 minutes'],
  ['15m', 'Last 15 minutes'],
  ['1h', 'Last hour'],
  ['6h', 'Last 6 hours'],
  ['24h', 'Last 24 hours'],
];

/** A state history as a strip of coloured stretches, with the stretches spelled out for screen readers. */
function Strip({ bands, label }: { bands: ChartBand[]; label: string }) {
  const from = bands[0]?.from ?? 0;
  const span = Math.max(1, (bands[bands.length - 1]?.to ?? from + 1) - from);
  const text = bands.map((b) => `${b.state} ${time(b.from)}–${time(b.to)}`).join(', ');
  return (
    <div class="strip" role="img" aria-label={`${label}: ${text}`}>
      {bands.map((b, i) => (
        <span key={i} class={`strip-${b.state}`} style={{ width: `${((b.to - b.from) / span) * 100}%` }} title={`${b.state} ${time(b.from)}–${time(b.to)}`} />
      ))}
    </div>
  );
}

function AlarmCard({ name, range }: { name: string; range: string }) {
  const { data, error, reload } = useLoad(() => api.get<AlarmHistory>(`alarms/${encodeURIComponent(name)}/history`, { range }), `${name}|${range}`);
  useLiveReload((e) => e.type === 'alarm.changed' && e.alarm === name, reload, 100);
  useInterval(reload, 10_000);
  if (!data) return <div class="panel">{error ? <ErrorBox error={error} /> : <p class="muted">Loading {name}…</p>}</div>;
  const m = data.metric;
  return (
    <article class="panel alarm" data-alarm={name} aria-labelledby={`alarm-${name}`}>
      <header class="row">
        <h3 id={`alarm-${name}`}>
          {name} <Badge value={data.alarm.state} />
        </h3>
        <span class="muted small">
          since {time(data.alarm.since)} · {data.alarm.reason}
        </span>
      </header>
      {m ? (
        <>
          <p class="muted small">
            {m.statistic} of <code>{m.metric}</code> on <code>{m.scope}</code> per {duration(m.periodMs)}; ALARM when {COMPARISON[m.comparison] ?? m.comparison}{' '}
            {m.threshold} in {m.datapointsToAlarm} of {m.evaluationPeriods} periods.
          </p>
          <Chart
            id={`alarm-${name}`}
            title={`${name}: ${m.metric} (${m.statistic}) against the threshold ${m.threshold}`}
            times={m.times}
            series={[
              { label: m.metric, values: m.values, color: '#2563eb', sparse: true },
              { label: 'threshold', values: m.times.map(() => m.threshold), color: '#dc2626', dash: [6, 4] },
            ]}
            bands={data.bands}
            span={[data.from, Math.max(data.now, m.times[m.times.length - 1] ?? data.now)]}
            format={(v) => (Math.abs(v) >= 100 ? int(v) : String(Math.round(v * 1000) / 1000))}
            height={180}
          />
        </>
      ) : (
        <Strip bands={data.bands} label={`${name} state history`} />
      )}
      {data.transitions.length > 0 && (
        <details>
          <summary>{data.transitions.length === 1 ? '1 state change' : `${data.transitions.length} state changes`}</summary>
          <ul class="transitions">
            {data.transitions.map((t, i) => (
              <li key={i}>
                {time(t.time)}: {t.from} → {t.to} {t.reason && <span class="muted">({t.reason})</span>}
              </li>
            ))}
          </ul>
        </details>
      )}
    </article>
  );
}

function BreakerDialog({ breaker, verb, onClose, onDone }: { breaker: BreakerRow; verb: 'open' | 'close'; onClose: () => void; onDone: () => void }) {
  const [hold, setHold] = useState('hold');
  return (
    <Confirm
      title={`${verb === 'open' ? 'Open' : 'Close'} the breaker on ${breaker.scope}?`}
      confirmLabel={verb === 'open' ? 'Open breaker' : 'Close breaker'}
      danger={verb === 'open'}
      reason
      onClose={onClose}
      onConfirm={async (reason) => {
        const body: Record<string, unknown> = { by: actor, reason: reason || `${verb} from the console` };
        if (verb === 'open' && hold === 'hold') body.cooldownMs = null;
        await api.post(`breakers/${encodeURIComponent(breaker.scope)}/${verb}`, body);
        onDone();
      }}
    >
      {verb === 'open' ? (
        <>
          <p>
            Every call to <strong class="mono">{breaker.scope}</strong> is refused at once with <code>breaker.open</code> (model calls go to the model's
            fallbacks, if it has any).
          </p>
          <Select
            id="breaker-hold"
            label="Keep it open"
            value={hold}
            options={[
              ['hold', 'Until someone closes it'],
              ['policy', `For its cooldown (${duration(breaker.policy.cooldownMs)}), then probe`],
            ]}
            onChange={setHold}
          />
        </>
      ) : (
        <p>
          Calls to <strong class="mono">{breaker.scope}</strong> are let through again.
        </p>
      )}
    </Confirm>
  );
}

function Breakers({ range }: { range: string }) {
  const { data, error, reload } = useLoad(() => api.get<{ breakers: BreakerRow[] }>('live/breakers', { range }), range);
  const [acting, setActing] = useState<{ breaker: BreakerRow; verb: 'open' | 'close' }>();
  useLiveReload((e) => e.type === 'breaker.changed', reload, 100);
  useInterval(reload, 10_000);
  return (
    <div class="panel">
      <h2>Breakers</h2>
      <ErrorBox error={error} />
      {data && (
        <div class="table-wrap" tabIndex={0}>
          <table class="grid" aria-label="Breakers">
            <thead>
              <tr>
                <th scope="col">Scope</th>
                <th scope="col">State</th>
                <th scope="col">Since</th>
                <th scope="col">Policy</th>
                <th scope="col">History</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.breakers.map((b) => (
                <tr key={b.scope} data-breaker={b.scope} data-state={b.kind}>
                  <td class="mono">{b.scope}</td>
                  <td>
                    <Badge value={b.kind} />
                    {b.kind === 'open' && <div class="muted small">{b.retryAfterMs === null ? 'held open' : `probes in ${duration(b.retryAfterMs)}`}</div>}
                    {b.state.reason && <div class="muted small">{b.state.reason}</div>}
                  </td>
                  <td class="small">{b.state.epoch === 0 && b.transitions.length === 0 ? '—' : time(b.state.since)}</td>
                  <td class="small">
                    {b.policy.failureThreshold > 0 ? `${b.policy.failureThreshold} failures → open ${duration(b.policy.cooldownMs)}` : 'manual only'}
                  </td>
                  <td class="history">
                    <Strip bands={b.bands} label={`${b.scope} history`} />
                    <span class="muted small">{b.transitions.length === 1 ? '1 change' : `${b.transitions.length} changes`}</span>
                  </td>
                  <td class="actions-cell">
                    {b.kind === 'closed' ? (
                      <button type="button" class="danger small" onClick={() => setActing({ breaker: b, verb: 'open' })} aria-label={`Open breaker ${b.scope}`}>
                        Open
                      </button>
                    ) : (
                      <button type="button" class="small" onClick={() => setActing({ breaker: b, verb: 'close' })} aria-label={`Close breaker ${b.scope}`}>
                        Close
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {acting && <BreakerDialog breaker={acting.breaker} verb={acting.verb} onClose={() => setActing(undefined)} onDone={reload} />}
    </div>
  );
}

/** Alarms and breakers: each alarm's metric with its threshold and state bands; each breaker with its history. */
export function AlarmsView({ loc }: { loc: Location }) {
  const range = loc.query.get('range') ?? '1h';
  const { data, error } = useLoad(() => api.get<{ alarms: AlarmStatus[] }>('alarms'), 'alarms');
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Alarms and breakers</h1>
        <p class="muted">Alarms judge metrics as CloudWatch does; breakers stop calls to a model, provider or tool server.</p>
      </header>
      <div class="filters">
        <Select id="a-range" label="Range" value={range} options={RANGES} onChange={(v) => setQuery({ range: v })} />
      </div>
      <ErrorBox error={error} />
      <h2>Alarms</h2>
      {data && data.alarms.length === 0 && <p class="muted">No alarms are configured.</p>}
      <div class="chart-grid">
        {data?.alarms.map((a) => (
          <AlarmCard key={a.name} name={a.name} range={range} />
        ))}
      </div>
      <Breakers range={range} />
    </section>
  );
}
