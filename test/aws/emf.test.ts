import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emfDocument } from '../../src/metrics/emf/index.ts';
import { emfViolations } from './emf-rules.ts';
import {
  createGateway,
  createGuard,
  createSimModel,
  isMetricName,
  loadConfigFile,
  parseConfig,
  parsePrometheusText,
  SCOPE_KINDS,
  type ConfigInput,
} from './helpers.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fmguard-emf-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function config(emf: { path: string; namespace?: string } | undefined): ConfigInput {
  return {
    store: { kind: 'memory' },
    providers: { sim: { kind: 'simulated' } },
    models: {
      'sim-small': { provider: 'sim', inputPerMTok: 0.15, outputPerMTok: 0.6 },
      'sim-pricey': { provider: 'sim', inputPerMTok: 100, outputPerMTok: 400 },
    },
    tenants: { acme: {} },
    agents: { bot: { tenant: 'acme', keys: ['sk-emf-bot-0001'], allow: { models: ['sim-small'], tools: ['demo.*'] } } },
    defaults: { retry: [] },
    ...(emf ? { metrics: { emf } } : {}),
  };
}

function lines(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** A success, a refusal (policy), an upstream failure, a tool success and a tool timeout. */
async function exercise(guard: ReturnType<typeof createGuard>): Promise<void> {
  const run = await guard.startRun({ agent: 'bot' });
  await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'Hello there' }] });
  await expect(run.callModel({ model: 'sim-pricey', messages: [{ role: 'user', content: 'Hi' }] })).rejects.toMatchObject({ code: 'policy.denied' });
  await expect(run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: '[sim:fail 1 503] Hi' }] })).rejects.toMatchObject({
    code: 'upstream.error',
  });
  await run.callTool({ tool: 'demo.search', args: { q: 'x' }, execute: () => 'found' });
  await expect(
    run.callTool({
      tool: 'demo.slow',
      args: {},
      timeoutMs: 20,
      execute: (_a, { signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    }),
  ).rejects.toMatchObject({ code: 'timeout.tool' });
}

describe('CloudWatch Embedded Metric Format output', () => {
  it('writes one valid EMF document per call, with the metric names and scope dimensions of the metrics module', async () => {
    const path = join(dir, 'logs', 'emf.jsonl');
    const guard = createGuard({ config: config({ path, namespace: 'fmguard/test' }), providers: { sim: createSimModel() } });
    await exercise(guard);
    await guard.close();

    const docs = lines(path);
    expect(docs).toHaveLength(5);
    for (const line of docs) expect(emfViolations(line)).toEqual([]);
    const parsed = docs.map((l) => JSON.parse(l) as Record<string, any>);
    for (const doc of parsed) {
      const directive = doc._aws.CloudWatchMetrics[0];
      expect(directive.Namespace).toBe('fmguard/test');
      // Every metric is one the alarm engine and metrics module know; every dimension is a scope kind.
      for (const m of directive.Metrics) expect(isMetricName(m.Name)).toBe(true);
      for (const set of directive.Dimensions) for (const key of set) expect(SCOPE_KINDS).toContain(key);
      // `global` (no dimension) plus one set per scope: the series fmguard keeps per scope.
      expect(directive.Dimensions[0]).toEqual([]);
      expect(directive.Dimensions.slice(1).every((set: string[]) => set.length === 1)).toBe(true);
    }

    const [ok, refused, failed, tool, timedOut] = parsed;
    expect(ok).toMatchObject({ tenant: 'acme', agent: 'bot', model: 'sim-small', provider: 'sim', calls: 1, errors: 0, timeouts: 0, outcome: 'success' });
    expect(ok!.input_tokens).toBeGreaterThan(0);
    expect(ok!.cost_usd).toBeGreaterThan(0);
    expect(ok!._aws.CloudWatchMetrics[0].Metrics).toEqual([
      { Name: 'calls', Unit: 'Count' },
      { Name: 'errors', Unit: 'Count' },
      { Name: 'timeouts', Unit: 'Count' },
      { Name: 'latency_ms', Unit: 'Milliseconds' },
      { Name: 'input_tokens', Unit: 'Count' },
      { Name: 'output_tokens', Unit: 'Count' },
      { Name: 'cost_usd', Unit: 'None' },
    ]);
    expect(ok!._aws.CloudWatchMetrics[0].Dimensions).toEqual([[], ['tenant'], ['agent'], ['model'], ['provider']]);
    // A refused call is not a call: only refusals, by code.
    expect(refused).toMatchObject({ refusals: 1, 'refusals:policy.denied': 1, outcome: 'refused', code: 'policy.denied' });
    expect(refused!.calls).toBeUndefined();
    expect(failed).toMatchObject({ calls: 1, errors: 1, timeouts: 0, outcome: 'error', code: 'upstream.error' });
    expect(tool).toMatchObject({ tool: 'demo.search', server: 'demo', calls: 1, errors: 0 });
    expect(tool!._aws.CloudWatchMetrics[0].Dimensions).toEqual([[], ['tenant'], ['agent'], ['server'], ['tool']]);
    expect(timedOut).toMatchObject({ tool: 'demo.slow', calls: 1, errors: 1, timeouts: 1, code: 'timeout.tool' });
  });

  it('adds up to the same numbers as the Prometheus endpoint', async () => {
    const path = join(dir, 'emf.jsonl');
    const guard = createGuard({ config: config({ path }), providers: { sim: createSimModel() } });
    const gateway = createGateway({ guard });
    const { url } = await gateway.listen(0, '127.0.0.1');
    await exercise(guard);
    const run = await guard.startRun({ agent: 'bot' });
    for (let i = 0; i < 3; i++) await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: `Question ${i}` }] });
    const prom = parsePrometheusText(await (await fetch(`${url}/metrics`)).text());
    await gateway.close(100);
    await guard.close();

    const docs = lines(path).map((l) => JSON.parse(l) as Record<string, any>);
    const sum = (metric: string, where: (d: Record<string, any>) => boolean) => docs.filter(where).reduce((acc, d) => acc + (d[metric] ?? 0), 0);
    const promSum = (family: string, labels: Record<string, string>) =>
      prom
        .get(family)!
        .samples.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((acc, s) => acc + s.value, 0);

    const chat = (d: Record<string, any>) => d.model === 'sim-small';
    expect(sum('calls', chat)).toBe(promSum('fmguard_calls_total', { gen_ai_request_model: 'sim-small' }));
    expect(sum('errors', chat)).toBe(promSum('fmguard_calls_total', { gen_ai_request_model: 'sim-small', outcome: 'error' }));
    expect(sum('input_tokens', chat)).toBe(promSum('fmguard_tokens_total', { gen_ai_request_model: 'sim-small', gen_ai_token_type: 'input' }));
    expect(sum('output_tokens', chat)).toBe(promSum('fmguard_tokens_total', { gen_ai_request_model: 'sim-small', gen_ai_token_type: 'output' }));
    expect(sum('cost_usd', chat)).toBeCloseTo(promSum('fmguard_cost_usd_total', { gen_ai_request_model: 'sim-small' }), 12);
    expect(sum('refusals', () => true)).toBe(promSum('fmguard_refusals_total', {}));
    expect(sum('timeouts', (d) => d.tool !== undefined)).toBe(promSum('fmguard_calls_total', { gen_ai_operation_name: 'execute_tool', outcome: 'timeout' }));
  });

  it('a relative path is relative to the config file, like the store and the audit log', () => {
    const file = join(dir, 'conf', 'fmguard.yaml');
    mkdirSync(join(dir, 'conf'));
    writeFileSync(file, JSON.stringify(config({ path: 'logs/emf.jsonl' })));
    expect(loadConfigFile(file).metrics.emf).toEqual({ path: join(dir, 'conf', 'logs', 'emf.jsonl'), namespace: 'fmguard' });
  });

  it('is off unless configured; the namespace defaults to fmguard', () => {
    expect(parseConfig(config(undefined)).metrics.emf).toBeUndefined();
    expect(parseConfig(config({ path: '-' })).metrics.emf).toEqual({ path: '-', namespace: 'fmguard' });
    expect(() => parseConfig(config({ path: '-', namespace: 'has space' }))).toThrow(/metrics\.emf\.namespace/);
  });

  it('writes to stdout with path "-" (as Lambda and container log drivers read it)', () => {
    const script = join(dir, 'stdout.mts');
    const root = join(import.meta.dirname, '..', '..');
    writeFileSync(
      script,
      `import { createGuard } from ${JSON.stringify(join(root, 'src/index.ts'))};
const guard = createGuard({ config: ${JSON.stringify(config({ path: '-', namespace: 'fmguard/stdout' }))} });
const run = await guard.startRun({ agent: 'bot' });
await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'Hello' }] });
await guard.close();
`,
    );
    const out = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(out.status, out.stderr).toBe(0);
    const docs = out.stdout.split('\n').filter((l) => l.startsWith('{'));
    expect(docs).toHaveLength(1);
    expect(emfViolations(docs[0]!)).toEqual([]);
    expect(JSON.parse(docs[0]!)).toMatchObject({ _aws: { CloudWatchMetrics: [{ Namespace: 'fmguard/stdout' }] }, model: 'sim-small', calls: 1 });
  });

  it('a write failure goes to onError and never fails a call', async () => {
    const errors: unknown[] = [];
    // The path is a folder: opening it for append fails (EISDIR) after the guard started.
    const guard = createGuard({ config: config({ path: dir }), providers: { sim: createSimModel() }, onError: (e) => errors.push(e) });
    const run = await guard.startRun({ agent: 'bot' });
    const result = await run.callModel({ model: 'sim-small', messages: [{ role: 'user', content: 'Hello' }] });
    expect(result.usage.outputTokens).toBeGreaterThan(0);
    await guard.close();
    expect(errors.map((e) => (e as NodeJS.ErrnoException).code)).toContain('EISDIR');
  });

  it('the rules catch what is not EMF', () => {
    const good = emfDocument(
      { tenant: 'acme', agent: 'bot', model: 'm', provider: 'p', outcome: 'success', latencyMs: 5, inputTokens: 1, outputTokens: 2, costUsd: 0.1 },
      'ns',
      1_700_000_000_000,
    );
    expect(emfViolations(JSON.stringify(good))).toEqual([]);
    const bad = (mutate: (d: any) => void) => {
      const d = structuredClone(good) as any;
      mutate(d);
      return emfViolations(JSON.stringify(d));
    };
    expect(bad((d) => delete d._aws)).toContain('_aws is missing or not an object');
    expect(bad((d) => (d._aws.Timestamp = 1.5))).toHaveLength(1);
    expect(bad((d) => (d.agent = 7))).toContain('dimension "agent" must be a string member of the root');
    expect(bad((d) => delete d.model)).toContain('dimension "model" must be a string member of the root');
    expect(bad((d) => (d.calls = '1'))).toContain('metric "calls" must be a number or an array of numbers on the root');
    expect(bad((d) => (d._aws.CloudWatchMetrics[0].Metrics = Array.from({ length: 101 }, () => ({ Name: 'calls' }))))).toContain(
      'CloudWatchMetrics[0].Metrics has more than 100 metric definitions',
    );
    expect(bad((d) => (d._aws.CloudWatchMetrics[0].Dimensions = [Array.from({ length: 31 }, () => 'agent')]))).toContain(
      'CloudWatchMetrics[0].Dimensions[0] has more than 30 dimension keys',
    );
    expect(bad((d) => (d._aws.CloudWatchMetrics[0].Dimensions = []))).toContain('CloudWatchMetrics[0].Dimensions must be a non-empty array of dimension sets');
    expect(bad((d) => (d._aws.CloudWatchMetrics[0].Metrics[0].Unit = 'Tokens'))).toHaveLength(1);
    expect(bad((d) => (d.calls = Array.from({ length: 101 }, () => 1)))).toContain('metric "calls" has more than 100 values');
    expect(emfViolations('{"_aws": {}} trailing')).toEqual(['the line is not one JSON value']);
  });
});
