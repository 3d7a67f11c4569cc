// The layer rules of ARCHITECTURE.md, checked by scanning every import in src/ (static, re-export
// and dynamic). Exits 1 and names each import that breaks a rule. Run by `npm run check:layers`
// and CI; test/architecture/layers.test.ts runs it too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// FMGUARD_LAYERS_SRC: check another tree (the test that this check fails uses it).
const SRC = process.env.FMGUARD_LAYERS_SRC ?? fileURLToPath(new URL('../src/', import.meta.url));

/**
 * What each top-level part of src/ may import, besides itself. A target is a folder (`store`), a
 * subfolder (`backends/memory`) or one file (`providers/provider.ts`, the ModelProvider contract).
 * Arrows point down: adapters -> runtime -> domain -> store -> core. Only wiring (and what sits
 * above it: cli, demo, the SDK entry) names a concrete backend, the simulator or the demo tools.
 */
const DOMAIN = ['policy', 'alarms', 'breakers', 'approvals', 'audit', 'metrics'];
export const RULES = {
  core: [],
  store: ['core'],
  policy: ['core'],
  metrics: ['core', 'store'],
  audit: ['core', 'store'],
  breakers: ['core', 'store'],
  alarms: ['core', 'store', 'metrics'],
  approvals: ['core', 'store', 'audit'],
  config: ['core', 'store', 'alarms', 'breakers', 'metrics'],
  // Trace-context propagation (the optional OpenTelemetry API, loaded lazily).
  telemetry: ['core'],
  http: ['core'],
  providers: ['core', 'config', 'telemetry'],
  backends: ['core', 'store', 'approvals', 'audit', 'metrics'],
  runtime: ['core', 'store', 'config', ...DOMAIN, 'providers/provider.ts'],
  mcp: ['core', 'store', 'config', 'http', 'runtime', 'telemetry', ...DOMAIN],
  admin: ['core', 'store', 'config', 'http', 'runtime', ...DOMAIN],
  // The web console: the admin API behind a signed-in session, and its own static assets.
  console: ['core', 'store', 'config', 'http', 'runtime', 'admin', ...DOMAIN],
  gateway: ['core', 'store', 'config', 'http', 'runtime', 'mcp', 'admin', 'console', 'telemetry', ...DOMAIN, 'providers/provider.ts'],
  // Framework adapters: the SDK surface plus the MCP refusal shapes; chosen by the user, never by wiring.
  adapters: ['core', 'store', 'config', 'runtime', 'telemetry', 'mcp/refusals.ts', 'providers/provider.ts', 'index.ts', ...DOMAIN],
  wiring: ['*', '!cli', '!aws', '!adapters'],
  // The AWS export reads the config and the compiled policies; only the CLI runs it.
  aws: ['*', '!cli'],
  demo: ['*', '!cli'],
  cli: ['*'],
  testing: ['core', 'store', 'backends/memory', 'providers/simulated'],
  'index.ts': ['core', 'store', 'config', 'runtime', 'wiring', 'providers/provider.ts', 'providers/simulated', 'backends/memory', 'backends/sqlite'],
};
/** Inside providers/, each provider stands alone: only the shared HTTP pieces and the contract are common. */
const PROVIDER_SHARED = ['providers/provider.ts', 'providers/http.ts', 'providers/sse.ts', 'providers/upstream-error.ts'];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function partOf(rel) {
  const [top] = rel.split('/');
  return rel.includes('/') ? top : rel;
}

function allowed(from, to) {
  const part = partOf(from);
  const target = partOf(to);
  if (part === target) {
    if (part !== 'providers' && part !== 'backends') return true;
    // One provider or backend does not reach into another; files at the top of the folder are shared.
    const [, a, rest] = from.split('/');
    const [, b, inner] = to.split('/');
    if (inner === undefined || (rest !== undefined && a === b)) return true;
    return part === 'providers' && PROVIDER_SHARED.includes(to);
  }
  const rules = RULES[part];
  if (!rules) return false;
  if (rules.includes('!' + target)) return false;
  if (rules.includes('*')) return true;
  return rules.some((rule) => rule === target || to === rule || to.startsWith(`${rule}/`));
}

/** What the SDK entry (src/index.ts) may not reach through its static imports: the adapters, the CLI, the demo. */
const NOT_IN_SDK = ['demo', 'cli', 'gateway', 'mcp', 'admin', 'console', 'http'];

function staticImports(file) {
  const text = readFileSync(file, 'utf8');
  const out = [];
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[3];
    if (spec?.startsWith('.') && !/^\s*(?:import|export)\s+type\b/.test(m[0])) out.push(normalize(join(dirname(file), spec)));
  }
  return out;
}

/** Every file the SDK entry loads, by following static (non-type) imports from src/index.ts. */
function sdkClosure() {
  const seen = new Set();
  const queue = [join(SRC, 'index.ts')];
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    queue.push(...staticImports(file));
  }
  return [...seen].map((file) => relative(SRC, file).split(sep).join('/'));
}

export function violations() {
  const out = [];
  for (const file of sdkClosure()) {
    if (NOT_IN_SDK.includes(partOf(file))) out.push(`index.ts (the SDK) loads ${file}: the SDK must not load ${NOT_IN_SDK.join(', ')}`);
  }
  for (const file of files(SRC)) {
    const from = relative(SRC, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      if (!spec.startsWith('.')) continue;
      const to = relative(SRC, normalize(join(dirname(file), spec)))
        .split(sep)
        .join('/');
      if (to.startsWith('..')) {
        out.push(`${from}: imports ${spec}, outside src/`);
        continue;
      }
      if (!allowed(from, to))
        out.push(`${from}: imports ${to} (${partOf(from)} may import ${(RULES[partOf(from)] ?? []).join(', ') || 'nothing else in src'})`);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const found = violations();
  for (const line of found) console.error(line);
  if (found.length > 0) {
    console.error(`${found.length} import(s) break the layer rules (scripts/check-layers.mjs, ARCHITECTURE.md)`);
    process.exit(1);
  }
  console.log('layers OK');
}
