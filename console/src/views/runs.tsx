import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Badge, Code, Empty, ErrorBox, Meter, Pager, Select } from '../components.tsx';
import { duration, int, time, usd } from '../format.ts';
import { useInterval, useLiveReload, useLoad, useServerNow } from '../hooks.ts';
import { setQuery, type Location } from '../router.ts';
import type { RunRow, RunsPage } from '../types.ts';
import { KillRunDialog } from './kill-run.tsx';

const STATES = ['running', 'stopped', 'completed'] as const;

/** Elapsed time of a run: to now while it runs (on the server's clock), to its end after. */
export function elapsed(run: RunRow, serverNow: number): number {
  return (run.endedAt ?? serverNow) - run.startedAt;
}

function Row({ run, serverNow, onKill }: { run: RunRow; serverNow: number; onKill: (run: RunRow) => void }) {
  const limit = run.deadline - run.startedAt;
  return (
    <tr data-run={run.id} data-status={run.status}>
      <td>
        <a href={`/console/runs/${encodeURIComponent(run.id)}`} class="mono">
          {run.id}
        </a>
        {run.parentId && <div class="muted small">sub-run of {run.parentId}</div>}
      </td>
      <td>
        {run.agent}
        <div class="muted small">{run.tenant}</div>
      </td>
      <td class="mono small">{run.model ?? '—'}</td>
      <td data-col="steps">
        <Meter value={run.usage.steps} max={run.limits?.maxSteps} text={`${int(run.usage.steps)} / ${int(run.limits?.maxSteps)}`} />
      </td>
      <td data-col="tools" class="num">
        {int(run.usage.toolCalls)}
      </td>
      <td data-col="cost">
        <Meter value={run.usage.costUsd} max={run.limits?.maxCostUsd} text={`${usd(run.usage.costUsd)} / ${usd(run.limits?.maxCostUsd)}`} />
      </td>
      <td data-col="elapsed">
        <Meter value={elapsed(run, serverNow)} max={limit} text={`${duration(elapsed(run, serverNow))} / ${duration(limit)}`} />
      </td>
      <td data-col="state">
        <Badge value={run.status} />
      </td>
      <td data-col="code">
        <Code code={run.stopCode} />
      </td>
      <td class="small">{time(run.startedAt)}</td>
      <td>
        {run.status === 'running' && (
          <button type="button" class="danger small" onClick={() => onKill(run)} aria-label={`Kill run ${run.id}`}>
            Kill
          </button>
        )}
      </td>
    </tr>
  );
}

/** Live runs: the runs in flight and the recent ones, filtered and paged on the server, updated by events. */
export function RunsView({ loc }: { loc: Location }) {
  const q = loc.query;
  const filters = {
    tenant: q.get('tenant') ?? '',
    agent: q.get('agent') ?? '',
    state: q.get('state') ?? '',
    code: q.get('code') ?? '',
    page: q.get('page') ?? '',
  };
  const key = JSON.stringify(filters);
  const { data, error, reload } = useLoad(() => api.get<RunsPage>('live/runs', { ...filters, limit: 50 }), key);
  const [killing, setKilling] = useState<RunRow>();

  const shown = new Set(data?.runs.map((r) => r.id));
  const page = data?.page ?? 1;
  useLiveReload(
    (e) => (e.runId !== undefined && shown.has(e.runId)) || (page === 1 && e.type === 'run.started') || e.type === 'run.stopped' || e.type === 'kill',
    reload,
  );
  // What events cannot announce: runs on other replicas, runs that end without a stop.
  useInterval(reload, 10_000);

  const serverNow = useServerNow(data?.now);
  const facets = data?.facets;
  const counts = data?.counts;
  const total = counts ? counts.running + counts.stopped + counts.completed : undefined;
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Live runs</h1>
        <p class="muted">Runs in flight and recent ones, newest first. Updates as the agents work.</p>
      </header>
      <div class="tabs" role="group" aria-label="Filter by state">
        <button type="button" aria-pressed={filters.state === ''} onClick={() => setQuery({ state: undefined, page: undefined })}>
          All {total !== undefined && <span class="count">{int(total)}</span>}
        </button>
        {STATES.map((s) => (
          <button type="button" key={s} aria-pressed={filters.state === s} onClick={() => setQuery({ state: s, page: undefined })}>
            {s[0]!.toUpperCase() + s.slice(1)} {counts && <span class="count">{int(counts[s])}</span>}
          </button>
        ))}
      </div>
      <div class="filters">
        <Select
          id="f-tenant"
          label="Tenant"
          value={filters.tenant}
          options={[['', 'All tenants'], ...(facets?.tenants ?? [])]}
          onChange={(v) => setQuery({ tenant: v, page: undefined })}
        />
        <Select
          id="f-agent"
          label="Agent"
          value={filters.agent}
          options={[['', 'All agents'], ...(facets?.agents ?? [])]}
          onChange={(v) => setQuery({ agent: v, page: undefined })}
        />
        <Select
          id="f-code"
          label="Stop code"
          value={filters.code}
          options={[['', 'Any stop code'], ...(facets?.codes ?? [])]}
          onChange={(v) => setQuery({ code: v, page: undefined })}
        />
      </div>
      <ErrorBox error={error} />
      {data && data.runs.length === 0 && <Empty>No runs match these filters yet.</Empty>}
      {data && data.runs.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table class="grid runs" aria-label="Runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Agent</th>
                <th scope="col">Model</th>
                <th scope="col">Steps</th>
                <th scope="col">Tool calls</th>
                <th scope="col">Cost / limit</th>
                <th scope="col">Elapsed / limit</th>
                <th scope="col">State</th>
                <th scope="col">Stop code</th>
                <th scope="col">Started</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.runs.map((run) => (
                <Row key={run.id} run={run} serverNow={serverNow} onKill={setKilling} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && <Pager page={data.page} pages={data.pages} total={data.total} noun="runs" onPage={(p) => setQuery({ page: String(p) }, false)} />}
      {killing && <KillRunDialog run={killing} onClose={() => setKilling(undefined)} onDone={reload} />}
    </section>
  );
}
