import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The user docs run as written. Every fenced block of README.md and docs/*.md is executed against a
 * gateway started as `npm start` starts it (`node bin/fmguard.js serve --config fmguard.example.yaml`),
 * in a scratch copy of the example: `sh` blocks with bash (`fmguard` on the PATH is bin/fmguard.js),
 * `ts` blocks with tsx (`fmguard` and `openai` resolve to this checkout), `cedar` blocks as the global
 * policy of the example config and `yaml` blocks as a config, both through `fmguard config check`
 * (the checks `serve` runs), and a block of `fmguard …` synopsis lines by asking each command for its
 * `--help`. The one change made to a block: the gateway listens on port 0, so its URL replaces
 * `http://127.0.0.1:8787`. A block that cannot run says why just above it (`<!-- not-run: reason -->`);
 * an unmarked block this test cannot run fails it.
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin/fmguard.js');
const DOCS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Block {
  doc: string;
  line: number;
  lang: string;
  code: string;
  notRun?: string;
}

function blocksOf(doc: string): Block[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    let j = start - 1;
    while (j >= 0 && lines[j]!.trim() === '') j--;
    const marker = j >= 0 ? /^<!--\s*not-run:\s*(.+?)\s*-->$/.exec(lines[j]!.trim()) : null;
    blocks.push({ doc, line: start + 1, lang: open[1] ?? '', code: body.join('\n'), ...(marker && { notRun: marker[1] }) });
  }
  return blocks;
}

const blocks = DOCS.flatMap(blocksOf);
const runnable = blocks.filter((b) => !b.notRun);

let work: string;
let gateway: ChildProcess | undefined;
let url = '';

function exec(command: string, args: string[], timeoutMs = 120_000): Promise<{ code: number; out: string; err: string }> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { cwd: work, timeout: timeoutMs, env: { ...process.env, PATH: `${join(work, 'bin')}:${process.env.PATH}`, FMGUARD_CONFIG: '' } },
      (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

beforeAll(async () => {
  // A scratch copy of what `npm start` uses: the example config and its policies, `fmguard` on the PATH,
  // and node_modules holding this checkout as `fmguard` (with `openai`) for the TypeScript snippets.
  work = mkdtempSync(join(tmpdir(), 'fmguard-docs-'));
  cpSync(join(ROOT, 'fmguard.example.yaml'), join(work, 'fmguard.example.yaml'));
  cpSync(join(ROOT, 'fmguard.schema.json'), join(work, 'fmguard.schema.json'));
  cpSync(join(ROOT, 'policies'), join(work, 'policies'), { recursive: true });
  mkdirSync(join(work, 'bin'));
  writeFileSync(join(work, 'bin/fmguard'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(work, 'bin/fmguard'), 0o755);
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules/fmguard'));
  for (const dep of ['openai', 'tsx']) symlinkSync(join(ROOT, 'node_modules', dep), join(work, 'node_modules', dep));
  // `npx fmguard` finds the bin there, as in a project that installed fmguard (in a clone, npx runs the
  // checkout's own bin); never the registry.
  mkdirSync(join(work, 'node_modules/.bin'));
  symlinkSync(join(work, 'bin/fmguard'), join(work, 'node_modules/.bin/fmguard'));

  gateway = spawn(process.execPath, [BIN, 'serve', '--config', 'fmguard.example.yaml', '--port', '0'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((ready, fail) => {
    let out = '';
    gateway!.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (http:\/\/\S+)/.exec(out);
      if (found) ready(found[1]!);
    });
    gateway!.stderr!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    gateway!.on('exit', (code) => fail(new Error(`the gateway exited (${code}): ${out}`)));
  });
}, 120_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway!.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
});

const asWritten = (code: string) => code.replaceAll('http://127.0.0.1:8787', url);

/** Run one block; resolves to a failure message, or undefined when it ran. */
async function runBlock(block: Block): Promise<string | undefined> {
  const where = `${block.doc}:${block.line}`;
  const fail = (r: { code: number; out: string; err: string }) => (r.code === 0 ? undefined : `${where} exited ${r.code}:\n${r.out}\n${r.err}`);
  switch (block.lang) {
    case 'sh':
    case 'bash':
      return fail(await exec('bash', ['-e', '-o', 'pipefail', '-c', asWritten(block.code)]));
    case 'ts': {
      const file = join(work, `snippet-${block.line}.mts`);
      writeFileSync(file, asWritten(block.code));
      return fail(await exec(process.execPath, ['--import', 'tsx', file]));
    }
    case 'cedar': {
      const policy = join(work, `snippet-${block.line}.cedar`);
      writeFileSync(policy, block.code);
      const config = join(work, `snippet-${block.line}.yaml`);
      writeFileSync(
        config,
        readFileSync(join(work, 'fmguard.example.yaml'), 'utf8').replace(/policies: \{ global: [^}]+\}/, `policies: { global: ${policy} }`),
      );
      return fail(await exec(process.execPath, [BIN, 'config', 'check', config]));
    }
    case 'yaml': {
      const config = join(work, `snippet-${block.line}.yaml`);
      writeFileSync(config, block.code);
      return fail(await exec(process.execPath, [BIN, 'config', 'check', config]));
    }
    case '': {
      const commands = block.code.split('\n').filter((l) => l.startsWith('fmguard '));
      if (commands.length === 0) return `${where}: a block without a language that is not a list of fmguard commands; mark it <!-- not-run: reason -->`;
      for (const line of commands) {
        // The command's words: up to the first option, argument placeholder or alternative list.
        const words = line
          .split(/\s+/)
          .slice(1)
          .filter((_, i, all) => all.slice(0, i + 1).every((w) => /^[a-z][a-z-]*(\|[a-z-]+)*$/.test(w) && !/^[A-Z]/.test(w)));
        const variants = words.reduce<string[][]>((acc, word) => acc.flatMap((prefix) => word.split('|').map((w) => [...prefix, w])), [[]]);
        for (const variant of variants) {
          const r = await exec(process.execPath, [BIN, ...variant, '--help']);
          if (r.code !== 0) return `${where}: \`fmguard ${variant.join(' ')} --help\` exited ${r.code}: ${r.err}`;
        }
      }
      return undefined;
    }
    default:
      return `${where}: the doc test cannot run a \`${block.lang}\` block; mark it <!-- not-run: reason -->`;
  }
}

describe('the user docs run as written', { timeout: 600_000 }, () => {
  it('finds the blocks of README.md and docs/*.md, and every not-run block says why', () => {
    expect(runnable.length).toBeGreaterThanOrEqual(7);
    for (const block of blocks.filter((b) => b.notRun)) expect(block.notRun!.length, `${block.doc}:${block.line}`).toBeGreaterThan(10);
  });

  it.each(runnable.map((b) => [`${b.doc}:${b.line} (${b.lang || 'commands'})`, b] as const))('%s', async (_, block) => {
    expect(await runBlock(block)).toBeUndefined();
  });

  it('the openai snippet reached the running gateway (its named run is in its store, scoped to the agent)', async () => {
    const r = await exec(process.execPath, [BIN, 'runs', 'list', '--json', '-c', 'fmguard.example.yaml']);
    expect(r.code).toBe(0);
    // `x-fmguard-run: my-run` from the demo key (agent support-bot) is stored as `my-run@support-bot`;
    // the curl call names no run, so it is a run of its own that is not written to the store.
    expect((JSON.parse(r.out) as Array<{ id: string }>).map((run) => run.id)).toContain('my-run@support-bot');
  });
});

describe('links in the user docs', () => {
  const links = DOCS.flatMap((doc) => {
    const text = readFileSync(join(ROOT, doc), 'utf8').replace(/```[\s\S]*?```/g, '');
    const found = [...text.matchAll(/\]\(([^)\s]+)\)/g), ...text.matchAll(/<(https?:\/\/[^>\s]+)>/g)].map((m) => m[1]!);
    return found.map((target) => ({ doc, target }));
  });

  it.each(links.map((l) => [`${l.doc} → ${l.target}`, l] as const))('%s stays in the repository or goes to a public https site', (_, { doc, target }) => {
    if (/^[a-z]+:/i.test(target)) {
      const link = new URL(target);
      // The one http link allowed: the gateway `npm start` runs on this machine.
      if (link.protocol === 'http:') expect(link.hostname, target).toBe('127.0.0.1');
      else {
        expect(link.protocol, target).toBe('https:');
        expect(link.hostname, target).not.toMatch(/^(localhost|127\.|10\.|192\.168\.|.*\.internal$|.*\.local$)/);
      }
      return;
    }
    if (target.startsWith('#')) return;
    const path = resolve(dirname(join(ROOT, doc)), target.split('#')[0]!);
    expect(relative(ROOT, path).startsWith('..'), `${target} leaves the repository`).toBe(false);
    expect(existsSync(path), `${target} does not exist`).toBe(true);
  });
});
