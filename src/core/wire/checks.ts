import { guardError, type GuardError } from '../errors.ts';

/**
 * Small shape checks shared by the request translations. Every failure is `request.invalid` with
 * `param` naming the field by its path in the body, as the OpenAI and Anthropic APIs do.
 */

export type Json = Record<string, unknown>;

export function invalid(param: string, message: string): GuardError {
  return guardError('request.invalid', `${param}: ${message}`, { param });
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  // A field left out: "expected a string, got nothing", not "got a undefined".
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** Absent (undefined or null). */
export function absent(value: unknown): value is undefined | null {
  return value === undefined || value === null;
}

export function requireObject(value: unknown, param: string): Json {
  if (!isObject(value)) throw invalid(param, `expected an object, got ${typeName(value)}`);
  return value;
}

export function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') throw invalid(param, `expected a string, got ${typeName(value)}`);
  return value;
}

export function optionalString(value: unknown, param: string): string | undefined {
  if (absent(value)) return undefined;
  return requireString(value, param);
}

export function optionalBoolean(value: unknown, param: string): boolean | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'boolean') throw invalid(param, `expected a boolean, got ${typeName(value)}`);
  return value;
}

export function optionalNumber(value: unknown, param: string, { integer = false, min }: { integer?: boolean; min?: number } = {}): number | undefined {
  if (absent(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(param, `expected a number, got ${typeName(value)}`);
  if (integer && !Number.isInteger(value)) throw invalid(param, 'expected an integer');
  if (min !== undefined && value < min) throw invalid(param, `expected a number >= ${min}`);
  return value;
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalid(param, `expected an array, got ${typeName(value)}`);
  return value;
}

/** A field that takes text or an array of parts: its refusal names both. */
export function requireTextOrArray(value: unknown, param: string): string | unknown[] {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  throw invalid(param, `expected a string or an array of parts, got ${typeName(value)}`);
}

/** The model name a request names; `hasModel` says whether it is configured (checked before a run exists). */
export function requireModel(body: Json, hasModel: (name: string) => boolean): string {
  const model = body.model;
  if (typeof model !== 'string' || model.length === 0) throw invalid('model', `expected a model name, got ${typeName(model)}`);
  if (!hasModel(model)) throw guardError('request.invalid', `unknown model "${model}"`, { param: 'model' });
  return model;
}

/** Tool-call arguments as JSON text: parsed back into an object for APIs that carry them as one. */
export function argumentsObject(text: string): Json {
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : { value };
  } catch {
    // A model can emit arguments that are not JSON; the agent still sees what it said.
    return { _raw: text };
  }
}
