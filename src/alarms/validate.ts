import { DISTRIBUTION_METRICS, isMetricName, isScopeKey } from '../metrics/names.ts';
import { isStatistic, percentileOf } from '../metrics/stat-set.ts';
import { parseRule, RuleParseError, ruleAlarms } from './composite.ts';
import { parseDuration } from './duration.ts';
import { COMPARISONS, TREAT_MISSING, type AlarmSpec, type CompositeSpec, type Problem } from './types.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const ACTION_KINDS = ['openBreaker', 'closeBreaker', 'kill', 'clearKill', 'webhook'] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1;

/** CloudWatch periods: 10, 20 or 30 s (high resolution) or a multiple of 60 s. */
export function isValidPeriod(ms: number): boolean {
  return ms === 10_000 || ms === 20_000 || ms === 30_000 || (ms > 0 && ms % 60_000 === 0);
}

function checkActions(list: unknown, path: string, problems: Problem[]): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    problems.push({ path, message: 'expected a list of actions' });
    return;
  }
  list.forEach((action, i) => {
    const at = `${path}[${i}]`;
    if (!isObject(action)) return void problems.push({ path: at, message: `expected an object with one of ${ACTION_KINDS.join(', ')}` });
    const keys = Object.keys(action);
    if (keys.length !== 1 || !(ACTION_KINDS as readonly string[]).includes(keys[0])) {
      return void problems.push({ path: at, message: `expected exactly one of ${ACTION_KINDS.join(', ')}; got ${keys.join(', ') || 'nothing'}` });
    }
    const kind = keys[0];
    const body = action[kind] ?? {};
    if (!isObject(body)) return void problems.push({ path: `${at}.${kind}`, message: 'expected an object' });
    if (body.scope !== undefined && !isScopeKey(body.scope)) {
      problems.push({ path: `${at}.${kind}.scope`, message: 'expected `global` or `<kind>:<id>` (tenant, agent, model, provider, server, tool)' });
    }
    if (kind === 'openBreaker') {
      if (body.cooldown !== undefined && !(parseDuration(body.cooldown)! > 0))
        problems.push({ path: `${at}.openBreaker.cooldown`, message: 'expected a positive duration such as 30s' });
      if (body.halfOpenProbes !== undefined && !isPositiveInt(body.halfOpenProbes))
        problems.push({ path: `${at}.openBreaker.halfOpenProbes`, message: 'expected a positive integer' });
    }
    if (kind === 'kill' && body.reason !== undefined && typeof body.reason !== 'string')
      problems.push({ path: `${at}.kill.reason`, message: 'expected a string' });
    if (kind === 'webhook') {
      let url: URL | undefined;
      try {
        url = typeof body.url === 'string' ? new URL(body.url) : undefined;
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) problems.push({ path: `${at}.webhook.url`, message: 'expected an http(s) URL' });
      if (body.timeout !== undefined) {
        const ms = parseDuration(body.timeout);
        if (!(ms! > 0 && ms! <= 30_000)) problems.push({ path: `${at}.webhook.timeout`, message: 'expected a duration between 1ms and 30s' });
      }
      if (body.retries !== undefined && !(Number.isInteger(body.retries) && (body.retries as number) >= 0 && (body.retries as number) <= 10)) {
        problems.push({ path: `${at}.webhook.retries`, message: 'expected an integer from 0 to 10' });
      }
      if (body.headers !== undefined && !(isObject(body.headers) && Object.values(body.headers).every((v) => typeof v === 'string'))) {
        problems.push({ path: `${at}.webhook.headers`, message: 'expected a map of strings' });
      }
    }
  });
}

function checkCommon(spec: Record<string, unknown>, path: string, problems: Problem[]): void {
  if (typeof spec.name !== 'string' || spec.name.trim() === '') problems.push({ path: `${path}.name`, message: 'expected a non-empty string' });
  checkActions(spec.actions, `${path}.actions`, problems);
  checkActions(spec.okActions, `${path}.okActions`, problems);
  checkActions(spec.insufficientDataActions, `${path}.insufficientDataActions`, problems);
  if (spec.closeOnOk !== undefined && typeof spec.closeOnOk !== 'boolean') problems.push({ path: `${path}.closeOnOk`, message: 'expected true or false' });
}

/**
 * Problems in one metric alarm spec (empty when valid), with CloudWatch's rules: the period is 10,
 * 20 or 30 s or a multiple of 60 s, and a multiple of the resolution the metric is stored at
 * (`resolutionMs`, when known: a shorter or misaligned period could never be evaluated);
 * datapointsToAlarm ≤ evaluationPeriods; evaluationPeriods × period ≤ 7 days, ≤ 1 day when the
 * period is under an hour.
 */
export function validateAlarmSpec(spec: unknown, path: string, resolutionMs?: number): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(spec)) return [{ path, message: 'expected an alarm object' }];
  checkCommon(spec, path, problems);
  if (!isScopeKey(spec.scope))
    problems.push({ path: `${path}.scope`, message: 'expected `global` or `<kind>:<id>` (tenant, agent, model, provider, server, tool)' });
  if (!isMetricName(spec.metric)) {
    problems.push({
      path: `${path}.metric`,
      message: 'expected one of calls, errors, error_rate, timeouts, latency_ms, input_tokens, output_tokens, cost_usd, refusals, refusals:<stop code>',
    });
  }
  if (spec.statistic !== undefined) {
    if (!isStatistic(spec.statistic))
      problems.push({ path: `${path}.statistic`, message: 'expected Sum, Average, Minimum, Maximum, SampleCount or pNN (e.g. p99)' });
    else if (spec.metric === 'error_rate' && spec.statistic !== 'Average')
      problems.push({ path: `${path}.statistic`, message: 'error_rate is errors / calls per period; leave statistic out' });
    else if (percentileOf(spec.statistic) !== undefined && typeof spec.metric === 'string' && !DISTRIBUTION_METRICS.has(spec.metric)) {
      problems.push({ path: `${path}.statistic`, message: `percentiles are kept for ${[...DISTRIBUTION_METRICS].join(', ')} only` });
    }
  }
  const periodMs = parseDuration(spec.period);
  if (periodMs === undefined || !isValidPeriod(periodMs)) problems.push({ path: `${path}.period`, message: 'expected 10s, 20s, 30s or a multiple of 1m' });
  else if (resolutionMs !== undefined && periodMs % resolutionMs !== 0) {
    problems.push({
      path: `${path}.period`,
      message: `period ${periodMs} ms is not a multiple of the metrics resolution ${resolutionMs} ms (metrics.resolutionMs): the alarm could never be evaluated`,
    });
  }
  if (!isPositiveInt(spec.evaluationPeriods)) problems.push({ path: `${path}.evaluationPeriods`, message: 'expected a positive integer' });
  else if (periodMs !== undefined && isValidPeriod(periodMs)) {
    const longest = periodMs < HOUR_MS ? DAY_MS : WEEK_MS;
    if (periodMs * spec.evaluationPeriods > longest) {
      problems.push({
        path: `${path}.evaluationPeriods`,
        message:
          periodMs < HOUR_MS
            ? 'evaluationPeriods × period must not exceed one day when the period is under an hour'
            : 'evaluationPeriods × period must not exceed 7 days',
      });
    }
  }
  if (spec.datapointsToAlarm !== undefined) {
    const n = isPositiveInt(spec.evaluationPeriods) ? spec.evaluationPeriods : Infinity;
    if (!isPositiveInt(spec.datapointsToAlarm) || spec.datapointsToAlarm > n)
      problems.push({ path: `${path}.datapointsToAlarm`, message: 'expected an integer from 1 to evaluationPeriods' });
  }
  if (!(COMPARISONS as readonly unknown[]).includes(spec.comparison))
    problems.push({ path: `${path}.comparison`, message: `expected one of ${COMPARISONS.join(', ')}` });
  if (typeof spec.threshold !== 'number' || !Number.isFinite(spec.threshold)) problems.push({ path: `${path}.threshold`, message: 'expected a number' });
  if (spec.treatMissingData !== undefined && !(TREAT_MISSING as readonly unknown[]).includes(spec.treatMissingData)) {
    problems.push({ path: `${path}.treatMissingData`, message: `expected one of ${TREAT_MISSING.join(', ')}` });
  }
  return problems;
}

/** Problems in one composite alarm spec; references are checked by validateAlarms. */
export function validateCompositeSpec(spec: unknown, path: string): Problem[] {
  const problems: Problem[] = [];
  if (!isObject(spec)) return [{ path, message: 'expected a composite alarm object' }];
  checkCommon(spec, path, problems);
  if (spec.scope !== undefined && !isScopeKey(spec.scope)) problems.push({ path: `${path}.scope`, message: 'expected `global` or `<kind>:<id>`' });
  if (typeof spec.rule !== 'string') problems.push({ path: `${path}.rule`, message: 'expected a rule such as ALARM(a) AND NOT ALARM(b)' });
  else {
    try {
      parseRule(spec.rule);
    } catch (error) {
      problems.push({ path: `${path}.rule`, message: error instanceof RuleParseError ? error.message : String(error) });
    }
  }
  return problems;
}

/**
 * Every problem in a set of alarms: each spec, unique names, composite rules that name existing
 * alarms, and no composite that depends on itself. Paths are `alarms[i].field`,
 * `composites[i].field` under `prefix`.
 */
export function validateAlarms(input: { alarms?: unknown; composites?: unknown }, prefix = '', resolutionMs?: number): Problem[] {
  const alarms = input.alarms ?? [];
  const composites = input.composites ?? [];
  if (!Array.isArray(alarms)) return [{ path: `${prefix}alarms`, message: 'expected a list' }];
  if (!Array.isArray(composites)) return [{ path: `${prefix}composites`, message: 'expected a list' }];
  return validateEntries(
    alarms.map((spec, i) => [spec, `${prefix}alarms[${i}]`]),
    composites.map((spec, i) => [spec, `${prefix}composites[${i}]`]),
    resolutionMs,
  );
}

/**
 * The config file's single `alarms:` list, where an entry with a `rule` is a composite. Paths
 * are `<path>[i].field` with the list's own indices.
 */
export function validateAlarmConfig(list: unknown, path = 'alarms', resolutionMs?: number): Problem[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) return [{ path, message: 'expected a list' }];
  const isComposite = (spec: unknown) => isObject(spec) && 'rule' in spec;
  const entries = list.map((spec, i): [unknown, string] => [spec, `${path}[${i}]`]);
  return validateEntries(
    entries.filter(([spec]) => !isComposite(spec)),
    entries.filter(([spec]) => isComposite(spec)),
    resolutionMs,
  );
}

function validateEntries(alarms: Array<[unknown, string]>, composites: Array<[unknown, string]>, resolutionMs?: number): Problem[] {
  const problems: Problem[] = [];
  const names = new Map<string, string>();
  const claim = (spec: unknown, path: string) => {
    const name = isObject(spec) ? spec.name : undefined;
    if (typeof name !== 'string') return;
    const earlier = names.get(name);
    if (earlier) problems.push({ path: `${path}.name`, message: `duplicate alarm name ${JSON.stringify(name)} (also ${earlier})` });
    else names.set(name, path);
  };
  for (const [spec, path] of alarms) {
    problems.push(...validateAlarmSpec(spec, path, resolutionMs));
    claim(spec, path);
  }
  const compositeNames = new Set(composites.map(([spec]) => (isObject(spec) ? spec.name : undefined)));
  const graph = new Map<string, Set<string>>();
  for (const [spec, path] of composites) {
    const own = validateCompositeSpec(spec, path);
    problems.push(...own);
    claim(spec, path);
    if (own.some((p) => p.path === `${path}.rule`) || !isObject(spec) || typeof spec.rule !== 'string') continue;
    const refs = ruleAlarms(parseRule(spec.rule));
    if (typeof spec.name === 'string') graph.set(spec.name, refs);
    for (const ref of refs) {
      if (!names.has(ref) && !compositeNames.has(ref)) problems.push({ path: `${path}.rule`, message: `unknown alarm ${JSON.stringify(ref)}` });
    }
  }
  for (const name of findCycle(graph)) {
    problems.push({ path: `${names.get(name)}.rule`, message: `composite ${JSON.stringify(name)} depends on itself` });
  }
  return problems;
}

/** Split the config's `alarms:` list into metric alarms and composites (entries with a `rule`). */
export function splitAlarmConfig(list: ReadonlyArray<AlarmSpec | CompositeSpec>): { alarms: AlarmSpec[]; composites: CompositeSpec[] } {
  const alarms: AlarmSpec[] = [];
  const composites: CompositeSpec[] = [];
  for (const entry of list) {
    if ('rule' in entry) composites.push(entry);
    else alarms.push(entry);
  }
  return { alarms, composites };
}

/** Composites on a dependency cycle. */
function findCycle(graph: Map<string, Set<string>>): string[] {
  const state = new Map<string, 'visiting' | 'done'>();
  const cyclic = new Set<string>();
  const visit = (name: string, stack: string[]) => {
    if (state.get(name) === 'done' || !graph.has(name)) return;
    if (state.get(name) === 'visiting') {
      for (const n of stack.slice(stack.indexOf(name))) cyclic.add(n);
      return;
    }
    state.set(name, 'visiting');
    for (const ref of graph.get(name)!) visit(ref, [...stack, name]);
    state.set(name, 'done');
  };
  for (const name of graph.keys()) visit(name, []);
  return [...cyclic];
}
