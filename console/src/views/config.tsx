import { api } from '../api.ts';
import { ErrorBox } from '../components.tsx';
import { dateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

interface ConfigInfo {
  config: Record<string, unknown>;
  loadedAt: number | null;
  now: number;
}

/** Config: the running config, every secret masked by the server, section by section. */
export function ConfigView() {
  const { data, error } = useLoad(() => api.get<ConfigInfo>('config/info'), 'config');
  return (
    <section aria-labelledby="view-title">
      <header class="view-head">
        <h1 id="view-title">Config</h1>
        <p class="muted">
          The configuration this gateway runs with; keys and credentials are masked.
          {data && (data.loadedAt ? ` Loaded ${dateTime(data.loadedAt)}.` : ' Load time unknown.')}
        </p>
      </header>
      <ErrorBox error={error} />
      {data &&
        Object.entries(data.config).map(([section, value]) => (
          <details class="panel config-section" key={section} open={['server', 'store', 'agents'].includes(section)}>
            <summary>
              <h2>{section}</h2>
            </summary>
            <pre class="config" data-section={section} tabIndex={0}>
              {JSON.stringify(value, null, 2)}
            </pre>
          </details>
        ))}
    </section>
  );
}
