import { useState } from 'preact/hooks';
import { actor, api } from '../api.ts';
import { Badge, Confirm, Empty, ErrorBox } from '../components.tsx';
import { dateTime, duration, time } from '../format.ts';
import { useInterval, useLiveReload, useLoad, useServerNow } from '../hooks.ts';

interface Approval {
  id: string;
  run: string;
  agent: string;
  tenant?: string;
  tool: string;
  args: unknown;
  createdAt: number;
  expiresAt: number;
  status: string;
  decidedAt?: number;
  decidedBy?: string;
  reason?: string;
}

function Args({ args }: { args: unknown }) {
  return (
    <pre class="args" tabIndex={0}>
      {JSON.stringify(args, null, 2)}
    </pre>
  );
}

function Decide({ approval, verb, onClose, onDone }: { approval: Approval; verb: 'approve' | 'deny'; onClose: () => void; onDone: () => void }) {
  return (
    <Confirm
      title={`${verb === 'approve' ? 'Approve' : 'Deny'} ${approval.tool}?`}
      confirmLabel={verb === 'approve' ? 'Approve' : 'Deny'}
      danger={verb === 'deny'}
      reason
      onClose={onClose}
      onConfirm={async (reason) => {
        await api.post(`approvals/${encodeURIComponent(approval.id)}/${verb}`, { by: actor, ...(reason && { reason }) });
        onDone();
      }}
    >
      <p>
        {verb === 'approve' ? 'This exact call runs once, for run ' : 'This call is refused with approval.denied for run '}
        <strong class="mono">{approval.run}</strong> of agent <strong>{approval.agent}</strong>:
      </p>
      <Args args={approval.args} />
    </Confirm>
  );
}

/** Approvals: the pending queue with the exact arguments and an expiry countdown; decided ones below. */
export function ApprovalsView() {
  const pending = useLoad(() => api.get<{ approvals: Approval[] }>('approvals', { status: 'pending', limit: 200 }), 'pending');
  const recent = useLoad(() => api.get<{ approvals: Approval[] }>('approvals', { limit: 200 }), 'recent');
  const [acting, setActing] = useState<{ approval: Approval; verb: 'approve' | 'deny' }>();
  const reload = () => {
    pending.reload();
    recent.reload();
  };
  useLiveReload((e) => e.type === 'approval' || (e.type === 'call.refused' && String(e.code ?? '').startsWith('approval.')), reload, 100);
  // Requests filed through another replica are not announced here.
  useInterval(reload, 10_000);
  const now = useServerNow(undefined);
  const decided = recent.data?.approvals.filter((a) => a.status !== 'pending') ?? [];
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Approvals</h1>
        <p class="muted">Tool calls a policy holds for a human. Approving lets the identical call run once.</p>
      </header>
      <div class="panel">
        <h2>Pending</h2>
        <ErrorBox error={pending.error} />
        {pending.data && pending.data.approvals.length === 0 && <Empty>Nothing is waiting for approval.</Empty>}
        {pending.data && pending.data.approvals.length > 0 && (
          <div class="table-wrap" tabIndex={0}>
            <table class="grid" aria-label="Pending approvals">
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col">Arguments</th>
                  <th scope="col">Asked by</th>
                  <th scope="col">Asked</th>
                  <th scope="col">Expires in</th>
                  <th scope="col">
                    <span class="visually-hidden">Decision</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pending.data.approvals.map((a) => (
                  <tr key={a.id} data-approval={a.id} data-tool={a.tool}>
                    <td class="mono">
                      {a.tool}
                      <div class="muted small">{a.id}</div>
                    </td>
                    <td>
                      <Args args={a.args} />
                    </td>
                    <td>
                      {a.agent}
                      <div class="small">
                        run <a href={`/console/runs/${encodeURIComponent(a.run)}`}>{a.run}</a>
                      </div>
                    </td>
                    <td class="small">{time(a.createdAt)}</td>
                    <td class="num" data-countdown>
                      {duration(a.expiresAt - now)}
                    </td>
                    <td class="actions-cell">
                      <button
                        type="button"
                        class="primary small"
                        onClick={() => setActing({ approval: a, verb: 'approve' })}
                        aria-label={`Approve ${a.tool} ${a.id}`}
                      >
                        Approve
                      </button>{' '}
                      <button type="button" class="danger small" onClick={() => setActing({ approval: a, verb: 'deny' })} aria-label={`Deny ${a.tool} ${a.id}`}>
                        Deny
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div class="panel">
        <h2>Decided</h2>
        <ErrorBox error={recent.error} />
        {recent.data && decided.length === 0 && <Empty>No decided approvals yet.</Empty>}
        {decided.length > 0 && (
          <div class="table-wrap" tabIndex={0}>
            <table class="grid" aria-label="Decided approvals">
              <thead>
                <tr>
                  <th scope="col">Tool</th>
                  <th scope="col">Arguments</th>
                  <th scope="col">Run</th>
                  <th scope="col">Status</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {decided.map((a) => (
                  <tr key={a.id} data-approval={a.id} data-status={a.status}>
                    <td class="mono">{a.tool}</td>
                    <td>
                      <Args args={a.args} />
                    </td>
                    <td>
                      <a href={`/console/runs/${encodeURIComponent(a.run)}`}>{a.run}</a>
                    </td>
                    <td>
                      <Badge value={a.status} />
                    </td>
                    <td>{a.decidedBy ?? '—'}</td>
                    <td class="small">{dateTime(a.decidedAt ?? a.expiresAt)}</td>
                    <td class="small">{a.reason ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {acting && <Decide approval={acting.approval} verb={acting.verb} onClose={() => setActing(undefined)} onDone={reload} />}
    </section>
  );
}
