/**
 * A small strict parser for the Prometheus text exposition format 0.0.4, for tests. It rejects what
 * a Prometheus server would reject and also checks the conventions we promise: families are
 * contiguous with one HELP and TYPE each (TYPE before samples), no duplicate series, counters end
 * in `_total`, histograms have cumulative `_bucket{le}` series ending in `+Inf` = `_count`, plus
 * `_sum`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  for (;;) {
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const eq = text.indexOf('=', i);
    if (eq < 0) throw new Error(`line ${line}: label without '='`);
    const name = text.slice(i, eq);
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`line ${line}: bad label name ${JSON.stringify(name)}`);
    if (Object.hasOwn(labels, name)) throw new Error(`line ${line}: duplicate label ${name}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label value must be quoted`);
    let j = eq + 2;
    let value = '';
    for (;;) {
      const ch = text[j];
      if (ch === undefined) throw new Error(`line ${line}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\\') {
        const next = text[j + 1];
        if (next === 'n') value += '\n';
        else if (next === '\\' || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next}`);
        j += 2;
      } else {
        value += ch;
        j++;
      }
    }
    labels[name] = value;
    i = j + 1;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`line ${line}: expected ',' or '}' after label ${name}`);
  }
}

function familyOf(sampleName: string, families: Map<string, Family>): Family | undefined {
  if (families.has(sampleName)) return families.get(sampleName);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sampleName.endsWith(suffix)) {
      const f = families.get(sampleName.slice(0, -suffix.length));
      if (f && (f.type === 'histogram' || f.type === 'summary')) return f;
    }
  }
  return undefined;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('exposition must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a plain comment
      const [, kind, name, rest] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
      if (closed.has(name)) throw new Error(`line ${line}: family ${name} is not contiguous`);
      let family = families.get(name);
      if (!family) {
        if (current && current.name !== name) closed.add(current.name);
        family = { name, type: '', help: '', samples: [] };
        families.set(name, family);
      }
      if (kind === 'TYPE') {
        if (family.type) throw new Error(`line ${line}: second TYPE for ${name}`);
        if (family.samples.length) throw new Error(`line ${line}: TYPE after samples for ${name}`);
        if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
        family.type = rest;
      } else {
        if (family.help) throw new Error(`line ${line}: second HELP for ${name}`);
        family.help = rest;
      }
      current = family;
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(raw);
    if (!nameMatch) throw new Error(`line ${line}: bad sample line ${JSON.stringify(raw)}`);
    const name = nameMatch[0];
    let rest = raw.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/\s+/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`line ${line}: expected ' value [timestamp]'`);
    const value = parseValue(parts[0], line);
    if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`line ${line}: bad timestamp`);
    const family = familyOf(name, families);
    if (!family?.type) throw new Error(`line ${line}: sample ${name} before its TYPE`);
    if (family !== current) throw new Error(`line ${line}: sample ${name} outside its family block`);
    const id = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(id)) throw new Error(`line ${line}: duplicate series ${id}`);
    seen.add(id);
    family.samples.push({ name, labels, value });
  });
  for (const f of families.values()) checkFamily(f);
  return families;
}

function checkFamily(f: Family): void {
  if (!f.type) throw new Error(`family ${f.name} has no TYPE`);
  if (f.type === 'counter') {
    if (!f.name.endsWith('_total')) throw new Error(`counter ${f.name} should end in _total`);
    for (const s of f.samples) if (!(s.value >= 0)) throw new Error(`counter ${f.name} has a negative value`);
  }
  if (f.type !== 'histogram') return;
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}_bucket without le`);
      g.buckets.push([parseValue(le, 0), s.value]);
    } else if (s.name === `${f.name}_sum`) g.sum = s.value;
    else if (s.name === `${f.name}_count`) g.count = s.value;
    else throw new Error(`unexpected sample ${s.name} in histogram ${f.name}`);
  }
  for (const [key, g] of groups) {
    if (g.sum === undefined || g.count === undefined) throw new Error(`histogram ${f.name}${key} lacks _sum or _count`);
    const sorted = [...g.buckets].sort((a, b) => a[0] - b[0]);
    if (sorted.at(-1)?.[0] !== Infinity) throw new Error(`histogram ${f.name}${key} lacks the +Inf bucket`);
    for (let i = 1; i < sorted.length; i++) if (sorted[i][1] < sorted[i - 1][1]) throw new Error(`histogram ${f.name}${key} buckets are not cumulative`);
    if (sorted.at(-1)![1] !== g.count) throw new Error(`histogram ${f.name}${key}: +Inf bucket != _count`);
  }
}
