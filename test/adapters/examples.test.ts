import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Run an example as a user would (`npx tsx examples/x.ts`), with extra environment. */
function runExample(file: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', `examples/${file}`], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The row of the example's table for a scenario: its columns. */
function row(stdout: string, scenario: string): string[] {
  const line = stdout.split('\n').find((l) => l.startsWith(scenario));
  if (!line) throw new Error(`no row for "${scenario}" in:\n${stdout}`);
  return line
    .slice(scenario.length)
    .trim()
    .split(/\s{2,}/);
}

const TIMEOUT = 90_000;

describe('the adapter examples run', () => {
  it(
    'examples/ai-sdk-agent.ts stops each runaway with its code',
    async () => {
      const { code, stdout, stderr } = await runExample('ai-sdk-agent.ts');
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(row(stdout, 'tool-call loop')[0]).toBe('loop.repeated_tool_call');
      expect(row(stdout, 'step limit (stopWhen)')[0]).toBe('limit.steps');
      expect(row(stdout, 'forbidden tool')[0]).toBe('policy.denied');
      expect(row(stdout, 'killed stream')[0]).toBe('kill.switch');
      expect(row(stdout, 'an ordinary answer')[0]).toBe('none');
    },
    TIMEOUT,
  );

  it(
    'examples/openai-agents.ts stops each runaway with its code, as the SDK’s own error types',
    async () => {
      const { code, stdout } = await runExample('openai-agents.ts');
      expect(code).toBe(0);
      expect(row(stdout, 'tool-call loop').slice(0, 2)).toEqual(['loop.repeated_tool_call', 'GuardStopError']);
      expect(row(stdout, 'step limit').slice(0, 2)).toEqual(['limit.steps', 'GuardMaxTurnsError']);
      expect(row(stdout, 'forbidden tool')[0]).toBe('policy.denied');
      expect(row(stdout, 'killed stream')[0]).toBe('kill.switch');
      expect(row(stdout, 'an ordinary answer')[0]).toBe('none');
    },
    TIMEOUT,
  );

  it(
    'examples/langchain-agent.ts stops each runaway with its code',
    async () => {
      const { code, stdout } = await runExample('langchain-agent.ts');
      expect(code).toBe(0);
      expect(row(stdout, 'tool-call loop')[0]).toBe('loop.repeated_tool_call');
      expect(row(stdout, 'step limit')[0]).toBe('limit.steps');
      expect(row(stdout, 'forbidden tool')[0]).toBe('policy.denied');
      expect(row(stdout, 'killed stream')[0]).toBe('kill.switch');
      expect(row(stdout, 'an ordinary answer')[0]).toBe('none');
    },
    TIMEOUT,
  );

  it(
    'examples/mcp-client.ts governs a stdio MCP server’s tools',
    async () => {
      const { code, stdout } = await runExample('mcp-client.ts');
      expect(code).toBe(0);
      expect(stdout).toContain('tools the agent sees: search, read_file, send_email, sleep');
      expect(row(stdout, 'a forbidden delete')[0]).toBe('policy.denied');
      expect(row(stdout, 'mail needing approval')[0]).toBe('approval.required');
      expect(row(stdout, 'a tool that hangs')[0]).toBe('timeout.tool');
      expect(row(stdout, 'and again (a loop)')[0]).toBe('loop.repeated_tool_call');
    },
    TIMEOUT,
  );

  it(
    'examples/otel-traces.ts prints the span tree',
    async () => {
      const { code, stdout } = await runExample('otel-traces.ts');
      expect(code).toBe(0);
      const lines = stdout.split('\n');
      expect(lines[0]).toMatch(/^invoke_agent planner .*error\.type=kill\.switch/);
      expect(lines).toContain('  invoke_agent researcher');
      expect(stdout).toMatch(/ {2}chat sim-small {2}\(failed; error\.type=upstream\.error; 3 attempts; fmguard\.retry, fmguard\.retry\)/);
      expect(stdout).toMatch(/served by sim-large/);
      expect(stdout).toMatch(/ {4}execute_tool demo\.delete_file {2}\(refused; error\.type=policy\.denied\)/);
    },
    TIMEOUT,
  );

  it(
    'examples/otel-traces.ts exports through the OpenTelemetry SDK configured by OTEL_* variables',
    async () => {
      const bodies: unknown[] = [];
      const collector: Server = createServer((req, res) => {
        let body = '';
        req.on('data', (d: Buffer) => (body += d));
        req.on('end', () => {
          if (req.url === '/v1/traces') bodies.push(JSON.parse(body));
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
      const port = (collector.address() as AddressInfo).port;
      try {
        const { code, stdout } = await runExample('otel-traces.ts', {
          OTEL_TRACES_EXPORTER: 'otlp',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
          OTEL_SERVICE_NAME: 'fmguard-example',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
        });
        expect(code).toBe(0);
        expect(stdout).toContain('spans exported');
      } finally {
        await new Promise((resolve) => collector.close(resolve));
      }
      type Otlp = {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
          scopeSpans: Array<{ spans: Array<{ name: string; attributes: Array<{ key: string; value: Record<string, unknown> }> }> }>;
        }>;
      };
      const resourceSpans = (bodies as Otlp[]).flatMap((b) => b.resourceSpans);
      expect(resourceSpans.length).toBeGreaterThan(0);
      expect(resourceSpans[0]!.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue).toBe('fmguard-example');
      const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      const names = spans.map((s) => s.name);
      expect(names).toContain('invoke_agent planner');
      expect(names).toContain('invoke_agent researcher');
      expect(names).toContain('execute_tool demo.search');
      const chat = spans.find((s) => s.name === 'chat sim-small')!;
      expect(chat.attributes.map((a) => a.key)).toEqual(
        expect.arrayContaining([
          'gen_ai.operation.name',
          'gen_ai.request.model',
          'gen_ai.response.model',
          'gen_ai.usage.input_tokens',
          'gen_ai.usage.output_tokens',
          'fmguard.cost_usd',
          'fmguard.decision',
        ]),
      );
    },
    TIMEOUT,
  );
});

describe('the README', () => {
  it(
    'runs the “Inside your framework” snippet as written',
    async () => {
      const readme = readFileSync(`${ROOT}/README.md`, 'utf8');
      const section = readme.slice(readme.indexOf('## Inside your framework'), readme.indexOf('## Access: Cedar policies'));
      const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
      expect(snippet).toBeDefined();
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', snippet!], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stderr }));
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    },
    TIMEOUT,
  );
});
