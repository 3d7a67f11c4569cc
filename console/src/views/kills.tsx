import { useState } from 'preact/hooks';
import { actor, api } from '../api.ts';
import { Confirm, Empty, ErrorBox, Select } from '../components.tsx';
import { dateTime, int } from '../format.ts';
import { useInterval, useLiveReload, useLoad } from '../hooks.ts';
import type { Impact, RunsPage } from '../types.ts';

interface Switch {
  scope: string;
  reason: string;
  by: string;
  at: number;
}

const KINDS: Array<[string, string]> = [
  ['global', 'Everything (global)'],
  ['tenant', 'A tenant'],
  ['agent', 'An agent'],
  ['run', 'A run'],
];

function describe(scope: string): string {
  if (scope === 'global') return 'every run of every agent';
  const [kind, ...rest] = scope.split(':');
  const id = rest.join(':');
  return kind === 'tenant' ? `every run of tenant ${id}` : kind === 'agent' ? `every run of agent ${id}` : `run ${id} and its sub-runs`;
}

/** Kill or lift: names the scope, what it covers, and how many runs are in flight under it right now. */
function SwitchDialog({ scope, lift, onClose, onDone }: { scope: string; lift: boolean; onClose: () => void; onDone: () => void }) {
  const impact = useLoad(() => api.get<Impact>('kill/impact', { scope }), scope);
  const n = impact.data?.running;
  return (
    <Confirm
      title={lift ? `Lift the kill switch on ${scope}?` : `Kill ${scope}?`}
      confirmLabel={lift ? 'Lift kill switch' : 'Kill'}
      danger={!lift}
      reason={!lift}
      onClose={onClose}
      onConfirm={async (reason) => {
        if (lift) await api.post('unkill', { scope });
        else await api.post('kill', { scope, reason: reason || 'killed from the console', by: actor });
        onDone();
      }}
    >
      {lift ? (
        <p>New calls for {describe(scope)} are allowed again. Runs it already stopped stay stopped.</p>
      ) : (
        <p>
          Stops {describe(scope)} at once: calls in flight are aborted and every later call is refused with <code>kill.switch</code>, on every replica, until
          the switch is lifted.
        </p>
      )}
      <p data-impact>
        {impact.error
          ? impact.error.message
          : n === undefined
            ? 'Counting the runs in flight…'
            : `${int(n)} run${n === 1 ? '' : 's'} in flight ${lift ? 'under it' : 'will stop'}.`}
      </p>
      {impact.data && impact.data.runs.length > 0 && (
        <p class="muted small">
          {impact.data.runs.map((r) => r.id).join(', ')}
          {impact.data.running > impact.data.runs.length && ', …'}
        </p>
      )}
    </Confirm>
  );
}

/** Kill switches: the ones set, each liftable; and a form to set one on everything, a tenant, an agent or a run. */
export function KillsView() {
  const { data, error, reload } = useLoad(() => api.get<{ switches: Switch[] }>('kill'), 'kill');
  const facets = useLoad(() => api.get<RunsPage>('live/runs', { limit: 1 }), 'facets');
  const [kind, setKind] = useState('tenant');
  const [id, setId] = useState('');
  const [acting, setActing] = useState<{ scope: string; lift: boolean }>();
  useLiveReload((e) => e.type === 'kill', reload, 100);
  useInterval(reload, 15_000);
  const choices = kind === 'tenant' ? facets.data?.facets.tenants : kind === 'agent' ? facets.data?.facets.agents : undefined;
  const scope = kind === 'global' ? 'global' : id.trim() ? `${kind}:${id.trim()}` : '';
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Kill switches</h1>
        <p class="muted">A kill switch stops everything under its scope at once, and keeps it stopped until lifted.</p>
      </header>
      <div class="panel">
        <h2>Set a kill switch</h2>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            if (scope) setActing({ scope, lift: false });
          }}
        >
          <Select
            id="k-kind"
            label="Scope"
            value={kind}
            options={KINDS}
            onChange={(v) => {
              setKind(v);
              setId('');
            }}
          />
          {kind !== 'global' &&
            (choices ? (
              <Select id="k-id" label={kind === 'tenant' ? 'Tenant' : 'Agent'} value={id} options={[['', `Choose a ${kind}`], ...choices]} onChange={setId} />
            ) : (
              <div class="field">
                <label for="k-id">Run id</label>
                <input id="k-id" type="text" value={id} onInput={(e) => setId((e.target as HTMLInputElement).value)} />
              </div>
            ))}
          <div class="field">
            <span aria-hidden="true">&nbsp;</span>
            <button type="submit" class="danger" disabled={!scope}>
              Kill…
            </button>
          </div>
        </form>
      </div>
      <div class="panel">
        <h2>Switches on</h2>
        <ErrorBox error={error} />
        {data && data.switches.length === 0 && <Empty>No kill switch is on.</Empty>}
        {data && data.switches.length > 0 && (
          <div class="table-wrap" tabIndex={0}>
            <table class="grid" aria-label="Kill switches on">
              <thead>
                <tr>
                  <th scope="col">Scope</th>
                  <th scope="col">Stops</th>
                  <th scope="col">Reason</th>
                  <th scope="col">By</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {data.switches.map((s) => (
                  <tr key={s.scope} data-switch={s.scope}>
                    <td class="mono">{s.scope}</td>
                    <td>{describe(s.scope)}</td>
                    <td>{s.reason}</td>
                    <td>{s.by}</td>
                    <td class="small">{dateTime(s.at)}</td>
                    <td class="actions-cell">
                      <button type="button" class="small" onClick={() => setActing({ scope: s.scope, lift: true })} aria-label={`Lift kill switch ${s.scope}`}>
                        Lift
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      {acting && <SwitchDialog scope={acting.scope} lift={acting.lift} onClose={() => setActing(undefined)} onDone={reload} />}
    </section>
  );
}
