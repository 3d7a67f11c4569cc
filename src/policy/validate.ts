import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { cedar, type DetailedError, type PolicyJson, type Schema } from './cedar.ts';
import { LineIndex, splitPolicies } from './cedar-text.ts';
import { AGENT_TYPE } from './schema.ts';
import type { GeneratedPolicy } from './shorthand.ts';
import type { PolicyProblem, PolicySource } from './types.ts';

/**
 * Reading, parsing and strict schema validation of policy texts. Every fault becomes a problem at
 * file:line:column (cedar-wasm reports UTF-8 byte offsets; LineIndex turns them into positions).
 */
export interface ParsedPolicy {
  readonly index: number;
  readonly json: PolicyJson;
  /** The policy's own source text (cedar-wasm parses text faster than JSON). */
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

export function loadSource(source: PolicySource, baseDir: string | undefined, problems: PolicyProblem[]): { name: string; text?: string } {
  if (typeof source !== 'string') return { name: source.name, text: source.text };
  try {
    return { name: source, text: readFileSync(resolve(baseDir ?? process.cwd(), source), 'utf8') };
  } catch (err) {
    problems.push({ severity: 'error', source, message: `cannot read policy file: ${(err as Error).message}` });
    return { name: source };
  }
}

/** Parse and strictly validate one Cedar text; every error is reported at its file:line:column. */
export function parseAndValidate(name: string, text: string, schema: Schema, problems: PolicyProblem[]): ParsedPolicy[] {
  const lines = new LineIndex(text);
  const answer = cedar().validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') {
    for (const e of answer.errors) problems.push(problemAt(name, lines, e, 'error'));
    return [];
  }
  const parsed: ParsedPolicy[] = [];
  splitPolicies(text).forEach((slice, index) => {
    const json = cedar().policyToJson(slice.text);
    const { line, column } = lines.position(slice.start);
    if (json.type === 'failure') {
      for (const e of json.errors) problems.push({ severity: 'error', source: name, line, column, message: e.message });
      return;
    }
    parsed.push({ index, json: json.json, text: slice.text, line, column });
  });
  const seen = new Set<string>();
  for (const v of answer.validationErrors) {
    const loc = v.error.sourceLocations?.[0];
    const key = `${v.policyId}:${loc?.start}:${loc?.end}`;
    if (seen.has(key)) continue; // the same fault, found once per principal/resource type pair
    seen.add(key);
    problems.push(problemAt(name, lines, v.error, 'error'));
  }
  for (const v of answer.validationWarnings) {
    // A forbid that can never match guards nothing: most often a misspelt or undeclared argument.
    const index = Number(/^policy(\d+)$/.exec(v.policyId)?.[1] ?? -1);
    const impossibleForbid = parsed.find((p) => p.index === index)?.json.effect === 'forbid' && /impossible/.test(v.error.message);
    if (!impossibleForbid) {
      problems.push(problemAt(name, lines, v.error, 'warning'));
      continue;
    }
    const problem = problemAt(name, lines, v.error, 'error');
    problems.push({
      ...problem,
      message: `${problem.message}: this forbid can never apply`,
      help: "check attribute names; a condition on a tool argument needs the tool's input schema in the config",
    });
  }
  for (const w of answer.otherWarnings) problems.push(problemAt(name, lines, w, 'warning'));
  return problems.some((p) => p.source === name && p.severity === 'error') ? [] : parsed;
}

function problemAt(name: string, lines: LineIndex, e: DetailedError, severity: 'error' | 'warning'): PolicyProblem {
  const loc = e.sourceLocations?.[0];
  const pos = loc ? lines.positionOfByte(loc.start) : undefined;
  const label = loc?.label ? `: ${loc.label}` : '';
  return { severity, source: name, line: pos?.line, column: pos?.column, message: `${stripPolicyPrefix(e.message)}${label}`, help: e.help ?? undefined };
}

// cedar-wasm names policies by position ("for policy `policy3`, ..."); the file:line says it better.
function stripPolicyPrefix(message: string): string {
  return message.replace(/^for policy `policy\d+`, /, '').replace(/^failed to parse policies from string: /, '');
}

/**
 * Shorthand is generated text, validated in one batch (a validate call costs milliseconds whatever
 * its size); a fault in it is reported at the config entry it came from. Agents' entries with the
 * same shape share a template (the entry written for a placeholder agent): each distinct template is
 * validated and converted to JSON once, and each agent's policy is the template's JSON with its own
 * agent id and policy id in place — what converting its own text would give. Should any template
 * fail, every policy is validated on its own text so problems name the real agents.
 */
export function validateGenerated(generated: readonly GeneratedPolicy[], schema: Schema, problems: PolicyProblem[]): (PolicyJson | undefined)[] {
  if (generated.length === 0) return [];
  if (!generated.some((g) => g.template)) return validateEach(generated, schema, problems);
  const index = new Map<string, number>();
  const texts: string[] = [];
  for (const g of generated) {
    const text = g.template?.text ?? g.text;
    if (!index.has(text)) {
      index.set(text, texts.length);
      texts.push(text);
    }
  }
  const answer = cedar().validate({ schema, policies: { staticPolicies: texts.join('\n') }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure' || answer.validationErrors.length > 0) return validateEach(generated, schema, problems);
  const jsons = texts.map((text) => {
    const json = cedar().policyToJson(text);
    return json.type === 'success' ? json.json : undefined;
  });
  return generated.map((g) => {
    const json = jsons[index.get(g.template?.text ?? g.text)!];
    if (!json || !g.template) return json;
    return {
      ...json,
      annotations: { ...json.annotations, id: g.id },
      principal: { op: '==', entity: { type: AGENT_TYPE, id: g.template.agent } },
    } as PolicyJson;
  });
}

/** Every generated policy validated and converted on its own text. */
function validateEach(generated: readonly GeneratedPolicy[], schema: Schema, problems: PolicyProblem[]): (PolicyJson | undefined)[] {
  const text = generated.map((g) => g.text).join('\n');
  const answer = cedar().validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } });
  if (answer.type === 'failure') {
    for (const e of answer.errors) problems.push({ severity: 'error', source: 'shorthand', message: stripPolicyPrefix(e.message) });
    return generated.map(() => undefined);
  }
  const failed = new Set<number>();
  for (const v of answer.validationErrors) {
    const index = Number(/^policy(\d+)$/.exec(v.policyId)?.[1]);
    const g = generated[index];
    if (!g || failed.has(index)) continue;
    failed.add(index);
    problems.push({ severity: 'error', source: g.origin, policyId: g.id, message: stripPolicyPrefix(v.error.message) });
  }
  return generated.map((g, i) => {
    if (failed.has(i)) return undefined;
    const json = cedar().policyToJson(g.text);
    return json.type === 'success' ? json.json : undefined;
  });
}
