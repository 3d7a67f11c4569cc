import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Badge, Code, ErrorBox, Meter } from '../components.tsx';
import { dateTime, duration, int, ms, usd } from '../format.ts';
import { useLiveReload, useLoad, useServerNow } from '../hooks.ts';
import type { AuditEntry, RunNode, Timeline } from '../types.ts';
import { KillRunDialog } from './kill-run.tsx';

const TYPE_LABEL: Record<string, string> = {
  'call.allowed': 'Call',
  'call.refused': 'Refused',
  'call.failed': 'Failed',
  'run.started': 'Run started',
  'run.stopped': 'Run stopped',
  'run.completed': 'Run completed',
  'approval.requested': 'Approval requested',
  'approval.decided': 'Approval decided',
  'approval.consumed': 'Approval used',
  'approval.expired': 'Approval expired',
  'policy.shadow': 'Shadow policy',
  'subrun.started': 'Sub-run started',
};

const DECISION: Record<string, string> = { 'call.allowed': 'allowed', 'call.refused': 'refused', 'call.failed': 'failed' };

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** What a timeline row says beyond its columns: fallbacks, approvals, refusal messages. */
function notes(e: AuditEntry): string[] {
  const d = e.details ?? {};
  const out: string[] = [];
  const servedBy = str(d.servedBy);
  if (servedBy && servedBy !== e.resource) out.push(`fallback: served by ${servedBy}`);
  if (d.streamed === true) out.push('streamed');
  const approval = str(d.approvalId) ?? (e.type.startsWith('approval.') ? str(e.resource) : undefined);
  if (approval) out.push(`approval ${approval}`);
  const status = str(d.status);
  if (status) out.push(`${status}${str(d.by) ? ` by ${str(d.by)}` : ''}`);
  const message = str(d.message) ?? str(d.reason);
  if (message) out.push(message);
  if (e.type === 'run.started' && str(d.parent)) out.push(`sub-run of ${str(d.parent)}`);
  return out;
}

/** Time since the run started: to the hundredth of a second in the first minute, where calls crowd. */
function offset(ms: number): string {
  return ms < 60_000 ? `+${(Math.max(0, ms) / 1000).toFixed(2)}s` : `+${duration(ms)}`;
}

function Attempts({ e }: { e: AuditEntry }) {
  const attempts = num(e.details?.attempts);
  if (attempts === undefined) return <span class="muted">—</span>;
  return <span>{attempts > 1 ? `${attempts} (${attempts - 1} ${attempts === 2 ? 'retry' : 'retries'})` : '1'}</span>;
}

function EventRow({ e, n, start }: { e: AuditEntry; n: number; start: number }) {
  const decision = DECISION[e.type];
  const tokens =
    e.usage && (e.usage.inputTokens !== undefined || e.usage.outputTokens !== undefined)
      ? `${int(e.usage.inputTokens ?? 0)} → ${int(e.usage.outputTokens ?? 0)}`
      : '—';
  const kind = e.action === 'invokeModel' ? 'model' : e.action === 'callTool' ? 'tool' : '';
  return (
    <tr data-event={e.type} class={decision === 'refused' || decision === 'failed' || e.type === 'run.stopped' ? 'row-bad' : ''}>
      <td class="num muted">{n}</td>
      <td class="small" title={dateTime(e.time)}>
        {offset(e.time - start)}
      </td>
      <td>
        {TYPE_LABEL[e.type] ?? e.type}
        {kind && <span class="muted small"> · {kind}</span>}
      </td>
      <td class="mono small">{e.type === 'subrun.started' ? <a href={`/console/runs/${encodeURIComponent(e.run!)}`}>{e.run}</a> : (e.resource ?? '—')}</td>
      <td>
        {decision ? <Badge value={decision === 'allowed' ? 'OK' : 'ALARM'} label={decision} /> : null} <Code code={e.code} />
      </td>
      <td class="num small">{tokens}</td>
      <td class="num small">{e.costUsd !== undefined ? usd(e.costUsd) : '—'}</td>
      <td class="num small">{ms(num(e.details?.latencyMs))}</td>
      <td class="num small">
        <Attempts e={e} />
      </td>
      <td class="small">{notes(e).join(' · ')}</td>
    </tr>
  );
}

function Tree({ node, current }: { node: RunNode; current: string }) {
  return (
    <li>
      {node.id === current ? (
        <strong class="mono" aria-current="page">
          {node.id}
        </strong>
      ) : (
        <a class="mono" href={`/console/runs/${encodeURIComponent(node.id)}`}>
          {node.id}
        </a>
      )}{' '}
      <span class="muted small">{node.agent}</span> <Badge value={node.status} /> {node.stopCode && <Code code={node.stopCode} />}
      {node.children.length > 0 && (
        <ul>
          {node.children.map((c) => (
            <Tree key={c.id} node={c} current={current} />
          ))}
        </ul>
      )}
    </li>
  );
}

function collectIds(node: RunNode | null, out = new Set<string>()): Set<string> {
  if (!node) return out;
  out.add(node.id);
  for (const c of node.children) collectIds(c, out);
  return out;
}

/** Sub-runs this run started, as rows of its history. */
function subRunRows(tree: RunNode | null, id: string): AuditEntry[] {
  const find = (n: RunNode | null): RunNode | undefined => (!n ? undefined : n.id === id ? n : n.children.map(find).find(Boolean));
  return (find(tree)?.children ?? []).map((c) => ({ seq: -1, time: c.startedAt, type: 'subrun.started', run: c.id, agent: c.agent }));
}

/** A run's timeline: every decision in order, its usage against its limits, its family, and a kill button. */
export function RunView({ id }: { id: string }) {
  const { data, error, reload } = useLoad(() => api.get<Timeline>(`runs/${encodeURIComponent(id)}/timeline`), id);
  const [killing, setKilling] = useState(false);
  const serverNow = useServerNow(data?.now);
  const family = collectIds(data?.tree ?? null);
  // The URL may name the run by the client's bare name (`my-run`); the stored id is `my-run@<agent>`.
  const runId = data?.run.id ?? id;
  useLiveReload((e) => e.runId !== undefined && (e.runId === id || e.runId === runId || family.has(e.runId)), reload);
  if (error && !data) return <ErrorBox error={error} />;
  if (!data) return <p class="muted">Loading run {id}…</p>;
  const { run, usage, limits } = data;
  const elapsedMs = (run.endedAt ?? serverNow) - run.startedAt;
  const limitMs = run.deadline - run.startedAt;
  const rows = [...data.events, ...subRunRows(data.tree, run.id)].sort((a, b) => a.time - b.time || a.seq - b.seq);
  return (
    <section aria-labelledby="view-title">
      <header class="view-head row">
        <div>
          <h1 id="view-title">
            Run <span class="mono">{run.id}</span> <Badge value={run.status} />
          </h1>
          <p class="muted">
            Agent <strong>{run.agent}</strong> · tenant <strong>{run.tenant}</strong> · model <span class="mono">{run.model ?? '—'}</span> · started{' '}
            {dateTime(run.startedAt)}
            {run.parentId && (
              <>
                {' '}
                · sub-run of <a href={`/console/runs/${encodeURIComponent(run.parentId)}`}>{run.parentId}</a>
              </>
            )}
          </p>
        </div>
        {run.status === 'running' && (
          <button type="button" class="danger" onClick={() => setKilling(true)}>
            Kill run
          </button>
        )}
      </header>
      <ErrorBox error={error} />
      {run.status === 'stopped' && (
        <p class="stopped" role="status" data-stopped={run.stopCode}>
          Stopped with <Code code={run.stopCode} />: {run.stopReason}
        </p>
      )}
      {data.killSwitch && (
        <p class="muted">
          Kill switch {data.killSwitch.scope} set by {data.killSwitch.by}: {data.killSwitch.reason}
        </p>
      )}
      <div class="cards">
        <div class="card">
          <h2>Steps</h2>
          <Meter value={usage.steps} max={limits?.maxSteps} text={`${int(usage.steps)} / ${int(limits?.maxSteps)}`} />
        </div>
        <div class="card">
          <h2>Tool calls</h2>
          <Meter value={usage.toolCalls} max={limits?.maxToolCalls} text={`${int(usage.toolCalls)} / ${int(limits?.maxToolCalls)}`} />
        </div>
        <div class="card">
          <h2>Tokens</h2>
          <Meter value={usage.totalTokens} max={limits?.maxTotalTokens} text={`${int(usage.totalTokens)} / ${int(limits?.maxTotalTokens)}`} />
        </div>
        <div class="card">
          <h2>Cost</h2>
          <Meter value={usage.costUsd} max={limits?.maxCostUsd} text={`${usd(usage.costUsd)} / ${usd(limits?.maxCostUsd)}`} />
          {usage.reservedCostUsd > 0 && <p class="muted small">{usd(usage.reservedCostUsd)} held by calls in flight</p>}
        </div>
        <div class="card">
          <h2>Elapsed</h2>
          <Meter value={elapsedMs} max={limitMs} text={`${duration(elapsedMs)} / ${duration(limitMs)}`} />
        </div>
      </div>
      {data.tree && data.tree.children.length > 0 && (
        <div class="panel">
          <h2>Runs in this family</h2>
          <ul class="tree">
            <Tree node={data.tree} current={run.id} />
          </ul>
        </div>
      )}
      <div class="panel">
        <h2>Event history</h2>
        {!data.audit && <p class="muted">The audit log is off in this config, so the run's history is not kept.</p>}
        {data.truncated && <p class="muted">Showing the first {data.events.length} events.</p>}
        <div class="table-wrap" tabIndex={0}>
          <table class="grid timeline" aria-label="Event history">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Model / tool</th>
                <th scope="col">Decision</th>
                <th scope="col">Tokens in → out</th>
                <th scope="col">Cost</th>
                <th scope="col">Latency</th>
                <th scope="col">Attempts</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e, i) => (
                <EventRow key={`${e.seq}-${e.run}-${i}`} e={e} n={i + 1} start={run.startedAt} />
              ))}
            </tbody>
          </table>
        </div>
      </div>
      {killing && <KillRunDialog run={run} onClose={() => setKilling(false)} onDone={reload} />}
    </section>
  );
}
