#!/usr/bin/env node
// Sums Stryker's JSON reports (reports/mutation/*.json, or the files given) into one score per group
// of the targets and per file: `node scripts/mutation-score.mjs [--survivors] [report.json…]`.
// Score = (killed + timed out) / (killed + timed out + survived + no coverage), as Stryker computes it;
// ignored (static) mutants and compile errors are left out, as Stryker leaves them out.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const listSurvivors = args.includes('--survivors');
const given = args.filter((a) => !a.startsWith('--'));
const dir = 'reports/mutation';
if (given.length === 0 && !existsSync(dir)) {
  console.error(`no reports in ${dir}/: run a part first (npm run mutate:core, mutate:stores, mutate:runtime, mutate:wire)`);
  process.exit(1);
}
const reports =
  given.length > 0
    ? given
    : readdirSync(dir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => join(dir, f));

const GROUPS = [
  ['src/core (without wire/)', (f) => /^src\/core\/[^/]+\.ts$/.test(f)],
  ['src/core/wire', (f) => f.startsWith('src/core/wire/')],
  ['store rules and ledgers', (f) => f.startsWith('src/backends/')],
  ['src/runtime', (f) => f.startsWith('src/runtime/')],
  ['other', () => true],
];

/** The newest result for each file wins when two reports cover it (a rerun after new tests). */
const files = new Map();
for (const path of reports) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, result] of Object.entries(report.files)) files.set(file.replace(/^.*?(src\/)/, '$1'), result.mutants);
}

const blank = () => ({ Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, CompileError: 0, RuntimeError: 0 });
const score = (c) => {
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  return valid === 0 ? 'n/a' : `${((100 * detected) / valid).toFixed(2)} %`;
};
const row = (name, c) => `| ${name} | ${score(c)} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.Ignored} |`;

const groups = new Map(GROUPS.map(([name]) => [name, blank()]));
const perFile = [];
const total = blank();
const survivors = [];
for (const [file, mutants] of [...files].sort(([a], [b]) => a.localeCompare(b))) {
  const c = blank();
  for (const m of mutants) {
    c[m.status] = (c[m.status] ?? 0) + 1;
    if (m.status === 'Survived' || m.status === 'NoCoverage')
      survivors.push(`${file}:${m.location.start.line}:${m.location.start.column} ${m.status} ${m.mutatorName}: ${JSON.stringify(m.replacement ?? '')}`);
  }
  const [group] = GROUPS.find(([, test]) => test(file));
  for (const k of Object.keys(c)) {
    groups.get(group)[k] += c[k];
    total[k] += c[k];
  }
  perFile.push(row(file, c));
}

const header = ['| | score | killed | timed out | survived | no coverage | ignored (static) |', '|---|---:|---:|---:|---:|---:|---:|'];
console.log([...header, ...[...groups].filter(([, c]) => Object.values(c).some((v) => v > 0)).map(([n, c]) => row(n, c)), row('**all**', total)].join('\n'));
console.log(`\n${[...header, ...perFile].join('\n')}`);
if (listSurvivors) console.log(`\n${survivors.join('\n')}`);
