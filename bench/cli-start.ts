/**
 * npm run bench:cli [-- --runs 20] — cold start of the fmguard CLI, one process start per sample:
 * `fmguard --help`, and `fmguard runs list -c bench/configs/sqlite.yaml` (config loading, opening the
 * SQLite store, one query), beside `node -e 0` (Node's own start, the floor). hyperfine when
 * installed (Debian package `hyperfine`), else a loop of spawns timed here. Writes the section
 * "CLI cold start (bench:cli)" of bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fmguardCommand, REPO } from './fmguard-cli.ts';
import { percentile, writeSection } from './results.ts';

const { values: opts } = parseArgs({ options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '2' }, 'no-write': { type: 'boolean', default: false } } });
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
}
const cases: Case[] = [
  { label: '`node -e 0` (Node alone, the floor)', command: { command: process.execPath, args: ['-e', '0'] } },
  { label: '`fmguard --help`', command: fmguardCommand('--help') },
  { label: '`fmguard runs list -c bench/configs/sqlite.yaml` (empty SQLite store)', command: fmguardCommand('runs', 'list', '-c', 'bench/configs/sqlite.yaml') },
];

// Every command must work before it is timed (and the SQLite file then exists: no first-run cost in the samples).
for (const c of cases) {
  const out = spawnSync(c.command.command, c.command.args, { cwd: REPO, env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`${c.label} failed (${out.status}): ${out.stderr}`);
}

const hyperfineVersion = /hyperfine\s+(\S+)/.exec(spawnSync('hyperfine', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];

/** Wall-clock seconds of each run. */
function measure(c: Case): number[] {
  if (hyperfineVersion) {
    const json = join(dir, 'hyperfine.json');
    // -N: no intermediate shell (its start would be counted); the paths here contain no spaces.
    const line = [c.command.command, ...c.command.args].join(' ');
    const out = spawnSync('hyperfine', ['-N', '--warmup', String(WARMUP), '--runs', String(RUNS), '--export-json', json, '--style', 'none', line], { cwd: REPO, env, encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`hyperfine failed on ${c.label}: ${out.stderr}`);
    return (JSON.parse(readFileSync(json, 'utf8')) as { results: Array<{ times: number[] }> }).results[0]!.times;
  }
  const times: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t0 = performance.now();
    const out = spawnSync(c.command.command, c.command.args, { cwd: REPO, env, stdio: 'ignore' });
    if (out.status !== 0) throw new Error(`${c.label} failed (${out.status})`);
    if (i >= WARMUP) times.push((performance.now() - t0) / 1000);
  }
  return times;
}

const loadBefore = loadavg();
const rows: string[] = [];
try {
  for (const c of cases) {
    const ms = measure(c)
      .map((s) => s * 1000)
      .sort((a, b) => a - b);
    rows.push(`| ${c.label} | ${percentile(ms, 50).toFixed(0)} | ${percentile(ms, 90).toFixed(0)} | ${ms[0]!.toFixed(0)} | ${ms.length} |`);
    process.stderr.write(`[bench:cli] ${c.label}: median ${percentile(ms, 50).toFixed(0)} ms\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const body = `${availableParallelism()} cores (nproc), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}. Load average (1/5/15 min) before: ${loadBefore.map((x) => x.toFixed(2)).join(' / ')}; after: ${loadavg()
  .map((x) => x.toFixed(2))
  .join(' / ')}.
Each sample is one process start to exit, ${hyperfineVersion ? `timed by hyperfine ${hyperfineVersion} (\`-N\`: no shell)` : 'timed by a loop of spawns in this process (hyperfine is not installed: apt-get install -y hyperfine)'}, ${RUNS} runs after ${WARMUP} warm-up runs. The CLI is started as \`node ${fmguardCommand().args.map((a) => a.replace(REPO, '')).join(' ')}\` (bench/fmguard-cli.ts).

| command | median ms | p90 ms | min ms | runs |
|---|---:|---:|---:|---:|
${rows.join('\n')}`;
console.log(body);
if (!opts['no-write']) writeSection('CLI cold start (bench:cli)', body);
