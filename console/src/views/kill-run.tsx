import { api, actor } from '../api.ts';
import { Confirm } from '../components.tsx';
import { int } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { Impact } from '../types.ts';

/** Kill one run: names the run and how many runs (it and its sub-runs) are in flight under it. */
export function KillRunDialog({ run, onClose, onDone }: { run: { id: string; agent: string }; onClose: () => void; onDone: () => void }) {
  const impact = useLoad(() => api.get<Impact>('kill/impact', { scope: `run:${run.id}` }), run.id);
  return (
    <Confirm
      title={`Kill run ${run.id}?`}
      confirmLabel="Kill run"
      danger
      reason
      onClose={onClose}
      onConfirm={async (reason) => {
        await api.post(`runs/${encodeURIComponent(run.id)}/kill`, { reason: reason || 'killed from the console', by: actor });
        onDone();
      }}
    >
      <p>
        Run <strong class="mono">{run.id}</strong> of agent <strong>{run.agent}</strong> stops at once: its calls in flight are aborted and every later call is
        refused with <code>kill.switch</code>. Its sub-runs stop with it.
      </p>
      <p data-impact>
        {impact.data ? `${int(impact.data.running)} run${impact.data.running === 1 ? '' : 's'} in flight will stop.` : 'Counting the runs in flight…'}
      </p>
    </Confirm>
  );
}
