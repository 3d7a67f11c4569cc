import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { csrfToken, userName } from './api.ts';
import { onStatus, type LiveStatus } from './live.ts';
import { interceptLinks, useLocation } from './router.ts';
import { AlarmsView } from './views/alarms.tsx';
import { ApprovalsView } from './views/approvals.tsx';
import { AuditView } from './views/audit.tsx';
import { ConfigView } from './views/config.tsx';
import { KillsView } from './views/kills.tsx';
import { RunView } from './views/run.tsx';
import { RunsView } from './views/runs.tsx';
import { SpendView } from './views/spend.tsx';

const NAV: Array<[string, string]> = [
  ['/', 'Live runs'],
  ['/spend', 'Spend'],
  ['/alarms', 'Alarms and breakers'],
  ['/approvals', 'Approvals'],
  ['/kills', 'Kill switches'],
  ['/audit', 'Audit'],
  ['/config', 'Config'],
];

function LiveIndicator() {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  useEffect(() => onStatus(setStatus), []);
  const text = status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <p class={`live ${status}`} role="status" data-live={status}>
      <span class="dot" aria-hidden="true" /> {text}
    </p>
  );
}

function View({ path, loc }: { path: string; loc: ReturnType<typeof useLocation> }) {
  const run = /^\/runs\/([^/]+)$/.exec(path);
  if (run) return <RunView id={decodeURIComponent(run[1]!)} />;
  switch (path) {
    case '/':
      return <RunsView loc={loc} />;
    case '/spend':
      return <SpendView loc={loc} />;
    case '/alarms':
      return <AlarmsView loc={loc} />;
    case '/approvals':
      return <ApprovalsView />;
    case '/kills':
      return <KillsView />;
    case '/audit':
      return <AuditView loc={loc} />;
    case '/config':
      return <ConfigView />;
    default:
      return (
        <section aria-labelledby="view-title">
          <h1 id="view-title">Not found</h1>
          <p>
            There is no console page at <code>{location.pathname}</code>. <a href="/console/">Live runs</a>
          </p>
        </section>
      );
  }
}

function App() {
  const loc = useLocation();
  const active = loc.path.startsWith('/runs/') ? '/' : loc.path;
  useEffect(() => {
    const label = NAV.find(([p]) => p === active)?.[1] ?? 'Run';
    document.title = `${label} · fmguard console`;
  }, [active]);
  return (
    <div class="layout">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="sidebar">
        <p class="brand">
          fm<span>guard</span>
        </p>
        <nav aria-label="Console">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={`/console${path === '/' ? '/' : path}`} aria-current={active === path ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
        <form method="post" action="/console/logout" class="signout">
          <input type="hidden" name="csrf" value={csrfToken} />
          {userName && <p class="small">Signed in as {userName}</p>}
          <button type="submit" class="small">
            Sign out
          </button>
        </form>
      </header>
      <main id="main" tabIndex={-1}>
        <View path={loc.path} loc={loc} />
      </main>
    </div>
  );
}

interceptLinks();
const root = document.getElementById('app')!;
root.textContent = '';
render(<App />, root);
