import type { CedarValueJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { InputType, RecordType } from './input-types.ts';
import type { DecisionRequest, ModelCallContext, RunContext, ToolCallContext } from './types.ts';

/**
 * Request context → Cedar JSON. Cedar has integers only: spend goes in as micro-dollars rounded up
 * (a limit compared against it errs toward stopping), and non-integer arguments become `decimal`.
 */
export function requestContext(request: DecisionRequest, inputType: RecordType, withInput = true): Record<string, CedarValueJson> {
  return request.action === 'invokeModel' ? modelContext(request.context) : toolContext(request.context, inputType, withInput);
}

/** Counters must be integers Cedar can hold, flags booleans; anything else is a malformed request. */
export function validContext(request: DecisionRequest): boolean {
  const c = request.context;
  if (c === null || typeof c !== 'object') return false;
  const run = Number.isSafeInteger(c.runSteps) && Number.isSafeInteger(c.runCostNanoUsd) && Number.isSafeInteger(c.runDepth) && Number.isSafeInteger(c.hourUtc);
  if (request.action === 'invokeModel') return run && Number.isSafeInteger(request.context.maxTokens) && typeof request.context.stream === 'boolean';
  return run;
}

export function modelContext(c: ModelCallContext): Record<string, CedarValueJson> {
  return {
    maxTokens: c.maxTokens,
    stream: c.stream,
    runSteps: c.runSteps,
    runCostMicroUsd: microUsd(c),
    runDepth: c.runDepth,
    hourUtc: c.hourUtc,
  };
}

/** `withInput: false` skips converting the arguments when no policy in reach reads them. */
export function toolContext(c: ToolCallContext, inputType: RecordType, withInput = true): Record<string, CedarValueJson> {
  return {
    input: withInput && isPlainObject(c.input) ? convertRecord(c.input, inputType) : {},
    runSteps: c.runSteps,
    runCostMicroUsd: microUsd(c),
    runDepth: c.runDepth,
    hourUtc: c.hourUtc,
  };
}

function microUsd(c: RunContext): number {
  return Math.ceil(c.runCostNanoUsd / 1000);
}

// Cedar decimal: at most 4 fractional digits, within ±922337203685477.
const DECIMAL_LIMIT = 922_337_203_685_477;

function decimal(n: number): CedarValueJson {
  return { __extn: { fn: 'decimal', arg: n.toFixed(4) } };
}

/**
 * One argument value, converted by its declared type. Only declared arguments reach Cedar, so what a
 * policy reads at run time is what `policy check` validated (an undeclared argument is absent, as the
 * validator assumed). An argument declared `number` is a decimal even when it is 3 (rounded to
 * Cedar's 4 places). A value of the wrong type is passed as a value of that other type (objects and
 * arrays as empty ones, so nesting stays bounded by the schema): a policy comparing it gets an
 * evaluation error — a permit then does not apply, a forbid denies — and `==` is false.
 * null is absent (Cedar has no null). Undefined means "leave the attribute out".
 */
function convert(value: unknown, type: InputType): CedarValueJson | undefined {
  if (value === null || value === undefined) return undefined;
  switch (type.kind) {
    case 'Set':
      return Array.isArray(value) ? convertSet(value, type.element) : mismatch(value);
    case 'Record':
      return isPlainObject(value) ? convertRecord(value, type) : mismatch(value);
    case 'decimal':
      return typeof value === 'number' ? number(value, true) : mismatch(value);
    default:
      return mismatch(value);
  }
}

function convertSet(values: readonly unknown[], element: InputType): CedarValueJson[] {
  const out: CedarValueJson[] = [];
  for (const item of values) {
    const v = convert(item, element);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** With its declared attributes only. */
function convertRecord(value: Readonly<Record<string, unknown>>, type: RecordType): Record<string, CedarValueJson> {
  const out: Record<string, CedarValueJson> = {};
  for (const key in value) {
    const declared = type.attrs.get(key);
    if (!declared || !Object.hasOwn(value, key)) continue;
    const v = convert(value[key], declared);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Primitives as they are (right or wrong type); containers as empty ones of their own kind. */
function mismatch(value: unknown): CedarValueJson | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return number(value, false);
    case 'object':
      return Array.isArray(value) ? [] : {};
    default:
      return undefined;
  }
}

function number(n: number, asDecimal: boolean): CedarValueJson {
  if (!asDecimal && Number.isSafeInteger(n)) return n;
  // Out of decimal's range (or not finite) a number cannot be compared faithfully: a string errors.
  return Number.isFinite(n) && Math.abs(n) < DECIMAL_LIMIT ? decimal(n) : String(n);
}

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
