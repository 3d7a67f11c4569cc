import { useState } from 'preact/hooks';
import { api } from '../api.ts';
import { Empty, ErrorBox, Select } from '../components.tsx';
import { dateTime, usd } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { navigate, type Location } from '../router.ts';
import type { AuditEntry, RunsPage } from '../types.ts';

/** The audit log's event types (src/audit/event.ts); the server refuses any other. */
const TYPES = [
  'call.allowed',
  'call.refused',
  'call.failed',
  'run.started',
  'run.stopped',
  'run.completed',
  'kill',
  'kill.cleared',
  'approval.requested',
  'approval.decided',
  'approval.consumed',
  'approval.expired',
  'breaker.changed',
  'alarm.changed',
  'budget.threshold',
  'policy.shadow',
];

interface Head {
  seq: number;
  hash: string;
}

type Verify =
  | { ok: true; count: number; head?: Head; chains?: Array<{ replica: string; result: { ok: boolean; count?: number; head?: Head } }> }
  | { ok: false; seq: number; problem: string; message: string; position: number; checked: number };

const FIELDS = ['run', 'agent', 'code', 'type', 'from', 'to'] as const;

/** datetime-local text (local time) ↔ epoch ms. */
const toMs = (local: string) => (local ? String(new Date(local).getTime()) : '');
const toLocal = (ms: string | null) => {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

function details(e: AuditEntry): string {
  const d = { ...(e.details ?? {}) };
  for (const key of Object.keys(d)) if (d[key] === undefined || d[key] === null) delete d[key];
  const text = JSON.stringify(d);
  return text === '{}' ? '' : text;
}

function VerifyResult({ result }: { result: Verify }) {
  if (!result.ok) {
    return (
      <div class="verify bad" role="status" data-verify="broken">
        <strong>✗ The chain is broken</strong> at event {result.seq} ({result.problem}): {result.message}. {result.checked} events verified before it.
      </div>
    );
  }
  const heads = result.chains?.length ? result.chains.map((c) => ({ name: c.replica, head: c.result.head })) : [{ name: '', head: result.head }];
  return (
    <div class="verify ok" role="status" data-verify="ok">
      <strong>✓ The chain is intact</strong>: {result.count.toLocaleString('en-US')} events, every hash links to the one before.
      {heads.map(
        (h) =>
          h.head && (
            <p key={h.name} class="small">
              Head{h.name && ` of ${h.name}`}: event <strong>{h.head.seq}</strong>, hash <code class="hash">{h.head.hash}</code> — keep it elsewhere to detect a
              later cut.
            </p>
          ),
      )}
    </div>
  );
}

/** Audit: search the hash-chained log by run, agent, code, type and time; verify the chain. */
export function AuditView({ loc }: { loc: Location }) {
  const q = loc.query;
  const filters = Object.fromEntries(FIELDS.map((f) => [f, q.get(f) ?? ''])) as Record<(typeof FIELDS)[number], string>;
  const [form, setForm] = useState(filters);
  const key = JSON.stringify(filters);
  const { data, error } = useLoad(() => api.get<{ events: AuditEntry[] }>('audit', { ...filters, limit: 200 }), key);
  const facets = useLoad(() => api.get<RunsPage>('live/runs', { limit: 1 }), 'facets');
  const [verify, setVerify] = useState<Verify>();
  const [verifyError, setVerifyError] = useState<Error>();
  const [verifying, setVerifying] = useState(false);
  const set = (field: string, value: string) => setForm({ ...form, [field]: value });
  const search = (event: Event) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const f of FIELDS) if (form[f]) params.set(f, form[f]);
    navigate(`/console/audit${params.size ? `?${params}` : ''}`);
  };
  const runVerify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setVerify(await api.get<Verify>('audit/verify'));
    } catch (e) {
      setVerifyError(e as Error);
    } finally {
      setVerifying(false);
    }
  };
  return (
    <section aria-labelledby="view-title">
      <header class="view-head row">
        <div>
          <h1 id="view-title">Audit</h1>
          <p class="muted">Every decision, one SHA-256-chained event each. Newest first.</p>
        </div>
        <button type="button" class="primary" onClick={runVerify} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify the chain'}
        </button>
      </header>
      {verify && <VerifyResult result={verify} />}
      <ErrorBox error={verifyError} />
      <form class="filters" onSubmit={search} aria-label="Search the audit log">
        <div class="field">
          <label for="q-run">Run</label>
          <input id="q-run" type="text" value={form.run} onInput={(e) => set('run', (e.target as HTMLInputElement).value)} />
        </div>
        <Select
          id="q-agent"
          label="Agent"
          value={form.agent}
          options={[['', 'Any agent'], ...(facets.data?.facets.agents ?? [])]}
          onChange={(v) => set('agent', v)}
        />
        <Select
          id="q-code"
          label="Stop code"
          value={form.code}
          options={[['', 'Any code'], ...(facets.data?.facets.codes ?? [])]}
          onChange={(v) => set('code', v)}
        />
        <Select id="q-type" label="Event" value={form.type} options={[['', 'Any event'], ...TYPES]} onChange={(v) => set('type', v)} />
        <div class="field">
          <label for="q-from">From</label>
          <input id="q-from" type="datetime-local" value={toLocal(form.from)} onInput={(e) => set('from', toMs((e.target as HTMLInputElement).value))} />
        </div>
        <div class="field">
          <label for="q-to">To</label>
          <input id="q-to" type="datetime-local" value={toLocal(form.to)} onInput={(e) => set('to', toMs((e.target as HTMLInputElement).value))} />
        </div>
        <div class="field">
          <span aria-hidden="true">&nbsp;</span>
          <button type="submit" class="primary">
            Search
          </button>
        </div>
      </form>
      <ErrorBox error={error} />
      {data && data.events.length === 0 && <Empty>No events match.</Empty>}
      {data && data.events.length > 0 && (
        <div class="table-wrap" tabIndex={0}>
          <table class="grid" aria-label="Audit events">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Run</th>
                <th scope="col">Agent</th>
                <th scope="col">Code</th>
                <th scope="col">Resource</th>
                <th scope="col">Cost</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {data.events.map((e) => (
                <tr key={e.seq} data-seq={e.seq}>
                  <td class="num muted">{e.seq}</td>
                  <td class="small">{dateTime(e.time)}</td>
                  <td>{e.type}</td>
                  <td class="mono small">{e.run ? <a href={`/console/runs/${encodeURIComponent(e.run)}`}>{e.run}</a> : '—'}</td>
                  <td>{e.agent ?? '—'}</td>
                  <td>{e.code ? <code>{e.code}</code> : '—'}</td>
                  <td class="mono small">{e.resource ?? '—'}</td>
                  <td class="num small">{e.costUsd !== undefined ? usd(e.costUsd) : ''}</td>
                  <td class="small details-cell">{details(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
