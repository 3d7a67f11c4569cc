/**
 * npm run bench:cli [-- --runs 20] — cold start of the fmguard CLI, one process start per sample:
 * `fmguard --help`, and `fmguard runs list -c bench/configs/sqlite.yaml` (config loading, opening the
 * SQLite store, one query) with the config cache warm (src/config/cache.ts: an unchanged config is not
 * validated again) and with it off (`FMGUARD_CONFIG_CACHE=0`: the first run after an edit), beside
 * `node -e 0` (Node's own start, the floor). hyperfine when installed (Debian package `hyperfine`),
 * else a loop of spawns timed here. Reports wall clock and CPU time (user + system, hyperfine's means:
 * on a shared machine the wall clock mostly measures waiting for a core), checks issue 15's targets
 * (≤ 300 ms each for `--help` and `runs list`), and writes the section "CLI cold start (bench:cli)"
 * of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmguardCommand, REPO } from './fmguard-cli.ts';
import { percentile, writeSection } from './results.ts';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '3' }, 'no-write': { type: 'boolean', default: false } } });
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
if (!Number.isInteger(RUNS) || RUNS < 2) throw new Error('--runs: an integer ≥ 2');

const dir = mkdtempSync(join(tmpdir(), 'fmguard-bench-cli-'));
// runs list reads the store only; the other references of the bench config just need values.
const env = {
  ...process.env,
  FMGUARD_BENCH_DIR: dir,
  FMGUARD_BENCH_UPSTREAM: 'http://127.0.0.1:9',
  FMGUARD_BENCH_TOOLS: 'http://127.0.0.1:9/mcp',
  FMGUARD_BENCH_KEY: 'sk-bench-cli-0001',
  FMGUARD_BENCH_REDIS_URL: 'redis://127.0.0.1:9',
  FMGUARD_BENCH_REDIS_PREFIX: 'unused:',
};

interface Case {
  label: string;
  command: { command: string; args: string[] };
  /** Variables added for this case. */
  env?: Record<string, string>;
  /** Issue 15's target for it, ms. */
  target?: number;
}
const cases: Case[] = [
  { label: '`node -e 0` (Node alone, the floor)', command: { command: process.execPath, args: ['-e', '0'] } },
  { label: '`fmguard --help`', command: fmguardCommand('--help'), target: 300 },
  {
    label: '`fmguard runs list -c bench/configs/sqlite.yaml` (empty SQLite store; config cache warm)',
    command: fmguardCommand('runs', 'list', '-c', 'bench/configs/sqlite.yaml'),
    target: 300,
  },
  {
    label: 'the same, `FMGUARD_CONFIG_CACHE=0` (the config validated: the first run after an edit)',
    command: fmguardCommand('runs', 'list', '-c', 'bench/configs/sqlite.yaml'),
    env: { FMGUARD_CONFIG_CACHE: '0' },
  },
];

// Every command must work before it is timed (and the SQLite file then exists: no first-run cost in the samples).
for (const c of cases) {
  const out = spawnSync(c.command.command, c.command.args, { cwd: REPO, env: { ...env, ...c.env }, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${c.label} failed (${out.status}): ${out.stderr}`);
}

const hyperfineVersion = /hyperfine\s+(\S+)/.exec(spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];

/** Wall-clock seconds of each run, and the mean user and system CPU seconds (hyperfine only). */
function measure(c: Case): { times: number[]; user?: number; system?: number } {
  if (hyperfineVersion) {
    const json = join(dir, 'hyperfine.json');
    // -N: no intermediate shell (its start would be counted); the paths here contain no spaces.
    const line = [c.command.command, ...c.command.args].join(' ');
    const out = spawnSync('hyperfine', ['-N', '--warmup', String(WARMUP), '--runs', String(RUNS), '--export-json', json, '--style', 'none', line], {
      cwd: REPO,
      env: { ...env, ...c.env },
      encoding: 'utf8',
    });
    if (out.status !== 0) throw new Error(`hyperfine failed on ${c.label}: ${out.stderr}`);
    const result = (JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ times: number[]; user: number; system: number }> }).results[0]!;
    return { times: result.times, user: result.user, system: result.system };
  }
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const out = spawnSync(c.command.command, c.command.args, { cwd: REPO, env: { ...env, ...c.env }, stdio: 'ignore' });
    if (out.status !== 0) throw new Error(`${c.label} failed (${out.status})`);
    if (i >= WARMUP) times.push((performance.now() - t0) / 1000);
  }
  return { times };
}

const loadBefore = loadavg();
const rows: string[] = [];
const targets: string[] = [];
const fixed = (n: number | undefined) => (n === undefined ? '—' : n.toFixed(0));
try {
  for (const c of cases) {
    const m = measure(c);
    const ms = m.times.map((s) => s * 1000).sort((a, b) => a - b);
    const cpu = m.user === undefined || m.system === undefined ? undefined : (m.user + m.system) * 1000;
    rows.push(
      `| ${c.label} | ${fixed(percentile(ms, 50))} | ${fixed(percentile(ms, 90))} | ${fixed(ms[0])} | ${fixed(m.user && m.user * 1000)} | ${fixed(m.system && m.system * 1000)} | ${fixed(cpu)} | ${ms.length} |`,
    );
    if (c.target !== undefined) {
      const met = (n: number | undefined) => (n === undefined ? '—' : n <= c.target! ? 'met' : '**missed**');
      targets.push(`| ${c.label} ≤ ${c.target} ms | ${fixed(percentile(ms, 50))} (${met(percentile(ms, 50))}) | ${fixed(ms[0])} (${met(ms[0])}) | ${fixed(cpu)} (${met(cpu)}) |`);
    }
    process.stderr.write(`[bench:cli] ${c.label}: median ${fixed(percentile(ms, 50))} ms, CPU ${fixed(cpu)} ms\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const body = `${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Load average (1/5/15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; after: ${loadavg()
  .map((x) => x.toFixed(2))
  .join(' / ')}.
Each sample is one process start to exit, ${hyperfineVersion ? `timed by hyperfine ${hyperfineVersion} (\`-N\`: no shell)` : 'timed by a loop of spawns in this process (hyperfine is not installed: apt-get install -y hyperfine)'}, ${RUNS} runs after ${WARMUP} warm-up runs. The CLI is started as \`node ${fmguardCommand().args.map((a) => a.replace(REPO, '')).join(' ')}\` (bench/fmguard-cli.ts).

| command | median wall ms | p90 wall ms | min wall ms | user ms | system ms | CPU ms (user + system) | runs |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

Issue 15's targets (the wall clock is the user's figure; on a loaded machine it mostly measures waiting for a core, the minimum and the CPU time are what the process itself costs):

| target | median wall ms | min wall ms | CPU ms |
|---|---:|---:|---:|
${targets.join('\n')}`;
console.log(body);
if (!opts['no-write']) writeSection('CLI cold start (bench:cli)', body);
