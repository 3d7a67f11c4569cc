import { describe, expect, it } from 'vitest';
import { GuardError } from '../../src/core/errors.ts';
import {
  absent,
  argumentsObject,
  invalid,
  isObject,
  optionalBoolean,
  optionalNumber,
  optionalString,
  requireArray,
  requireModel,
  requireObject,
  requireString,
  requireTextOrArray,
  typeName,
} from '../../src/core/wire/checks.ts';

/**
 * The shape checks shared by the wire request translations (core/wire/checks.ts): what each accepts,
 * what it returns, and the exact `request.invalid` error (message prefixed by the field's path, `param`
 * in the details) for everything it refuses. Also the parse of tool-call arguments text into an object.
 */

/** The error a check throws for `param`: code, full message and details pinned. */
function invalidError(param: string, message: string) {
  return expect.objectContaining({ name: 'GuardError', code: 'request.invalid', message: `${param}: ${message}`, details: { param } });
}

function caught(fn: () => unknown): GuardError {
  try {
    fn();
  } catch (error) {
    if (GuardError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('invalid', () => {
  it('is a request.invalid GuardError whose message is prefixed by the field and whose details name it', () => {
    const error = invalid('messages[2].role', 'expected "user"');
    expect(error).toBeInstanceOf(GuardError);
    expect(error.code).toBe('request.invalid');
    expect(error.message).toBe('messages[2].role: expected "user"');
    expect(error.details).toStrictEqual({ param: 'messages[2].role' });
    expect(error.status).toBe(400);
  });
});

describe('isObject', () => {
  it('accepts plain objects only, not null, arrays, primitives or functions', () => {
    expect(isObject({})).toBe(true);
    expect(isObject({ a: 1 })).toBe(true);
    expect(isObject(null)).toBe(false);
    expect(isObject(undefined)).toBe(false);
    expect(isObject([])).toBe(false);
    expect(isObject([1])).toBe(false);
    expect(isObject('x')).toBe(false);
    expect(isObject('')).toBe(false);
    expect(isObject(1)).toBe(false);
    expect(isObject(true)).toBe(false);
    expect(isObject(() => 1)).toBe(false);
  });
});

describe('typeName', () => {
  it('names null, arrays and objects, and every other value by its typeof with an article', () => {
    expect(typeName(null)).toBe('null');
    expect(typeName([])).toBe('an array');
    expect(typeName([1, 2])).toBe('an array');
    expect(typeName({})).toBe('an object');
    expect(typeName('s')).toBe('a string');
    expect(typeName('')).toBe('a string');
    expect(typeName(0)).toBe('a number');
    expect(typeName(true)).toBe('a boolean');
    expect(typeName(undefined)).toBe('nothing');
    expect(typeName(() => 1)).toBe('a function');
    expect(typeName(1n)).toBe('a bigint');
  });
});

describe('absent', () => {
  it('is true for undefined and null only, not for falsy values', () => {
    expect(absent(undefined)).toBe(true);
    expect(absent(null)).toBe(true);
    expect(absent(0)).toBe(false);
    expect(absent('')).toBe(false);
    expect(absent(false)).toBe(false);
    expect(absent(Number.NaN)).toBe(false);
    expect(absent({})).toBe(false);
  });
});

describe('requireObject', () => {
  it('returns the object itself', () => {
    const value = { a: 1 };
    expect(requireObject(value, 'p')).toBe(value);
  });

  it('refuses anything else, naming what it got', () => {
    expect(() => requireObject(null, 'tools[0]')).toThrow(invalidError('tools[0]', 'expected an object, got null'));
    expect(() => requireObject([], 'x')).toThrow(invalidError('x', 'expected an object, got an array'));
    expect(() => requireObject('s', 'x')).toThrow(invalidError('x', 'expected an object, got a string'));
    expect(() => requireObject(undefined, 'x')).toThrow(invalidError('x', 'expected an object, got nothing'));
  });
});

describe('requireString', () => {
  it('returns the string, the empty string included', () => {
    expect(requireString('abc', 'p')).toBe('abc');
    expect(requireString('', 'p')).toBe('');
  });

  it('refuses non-strings, naming what it got', () => {
    expect(() => requireString(1, 'a.b')).toThrow(invalidError('a.b', 'expected a string, got a number'));
    expect(() => requireString(null, 'a')).toThrow(invalidError('a', 'expected a string, got null'));
    expect(() => requireString(undefined, 'a')).toThrow(invalidError('a', 'expected a string, got nothing'));
    expect(() => requireString({}, 'a')).toThrow(invalidError('a', 'expected a string, got an object'));
  });
});

describe('optionalString', () => {
  it('is undefined when absent (undefined or null)', () => {
    expect(optionalString(undefined, 'p')).toBeUndefined();
    expect(optionalString(null, 'p')).toBeUndefined();
  });

  it('returns a present string, the empty string included', () => {
    expect(optionalString('x', 'p')).toBe('x');
    expect(optionalString('', 'p')).toBe('');
  });

  it('refuses a present non-string', () => {
    expect(() => optionalString(0, 'user')).toThrow(invalidError('user', 'expected a string, got a number'));
    expect(() => optionalString(false, 'user')).toThrow(invalidError('user', 'expected a string, got a boolean'));
  });
});

describe('optionalBoolean', () => {
  it('is undefined when absent', () => {
    expect(optionalBoolean(undefined, 'p')).toBeUndefined();
    expect(optionalBoolean(null, 'p')).toBeUndefined();
  });

  it('returns true and false as given', () => {
    expect(optionalBoolean(true, 'p')).toBe(true);
    expect(optionalBoolean(false, 'p')).toBe(false);
  });

  it('refuses non-booleans, truthy strings and numbers included', () => {
    expect(() => optionalBoolean('true', 'stream')).toThrow(invalidError('stream', 'expected a boolean, got a string'));
    expect(() => optionalBoolean(1, 'stream')).toThrow(invalidError('stream', 'expected a boolean, got a number'));
    expect(() => optionalBoolean(0, 'stream')).toThrow(invalidError('stream', 'expected a boolean, got a number'));
  });
});

describe('optionalNumber', () => {
  it('is undefined when absent', () => {
    expect(optionalNumber(undefined, 'p')).toBeUndefined();
    expect(optionalNumber(null, 'p', { integer: true, min: 1 })).toBeUndefined();
  });

  it('returns any finite number when given no options: fractions and negatives pass', () => {
    expect(optionalNumber(1.5, 'p')).toBe(1.5);
    expect(optionalNumber(-5, 'p')).toBe(-5);
    expect(optionalNumber(0, 'p')).toBe(0);
    expect(optionalNumber(-0.5, 'p', {})).toBe(-0.5);
  });

  it('refuses non-numbers, NaN and infinities', () => {
    expect(() => optionalNumber('1', 'n')).toThrow(invalidError('n', 'expected a number, got a string'));
    expect(() => optionalNumber(true, 'n')).toThrow(invalidError('n', 'expected a number, got a boolean'));
    expect(() => optionalNumber(Number.NaN, 'n')).toThrow(invalidError('n', 'expected a number, got a number'));
    expect(() => optionalNumber(Number.POSITIVE_INFINITY, 'n')).toThrow(invalidError('n', 'expected a number, got a number'));
    expect(() => optionalNumber(Number.NEGATIVE_INFINITY, 'n')).toThrow(invalidError('n', 'expected a number, got a number'));
    expect(() => optionalNumber([1], 'n')).toThrow(invalidError('n', 'expected a number, got an array'));
  });

  it('with integer: refuses fractions and accepts whole numbers (1.0 is whole)', () => {
    expect(() => optionalNumber(1.5, 'max_tokens', { integer: true })).toThrow(invalidError('max_tokens', 'expected an integer'));
    expect(optionalNumber(3, 'max_tokens', { integer: true })).toBe(3);
    expect(optionalNumber(-3, 'max_tokens', { integer: true })).toBe(-3);
    expect(optionalNumber(1.0, 'max_tokens', { integer: true })).toBe(1);
    expect(optionalNumber(1.5, 'p', { integer: false })).toBe(1.5);
  });

  it('with min: refuses values below it, accepts the bound itself', () => {
    expect(optionalNumber(1, 'x', { min: 1 })).toBe(1);
    expect(optionalNumber(0, 'x', { min: 0 })).toBe(0);
    expect(optionalNumber(2, 'x', { min: 1 })).toBe(2);
    expect(() => optionalNumber(0, 'x', { min: 1 })).toThrow(invalidError('x', 'expected a number >= 1'));
    expect(() => optionalNumber(-0.001, 'temperature', { min: 0 })).toThrow(invalidError('temperature', 'expected a number >= 0'));
    expect(() => optionalNumber(-1, 'x', { min: -0.5 })).toThrow(invalidError('x', 'expected a number >= -0.5'));
  });

  it('checks integer before min', () => {
    expect(() => optionalNumber(0.5, 'x', { integer: true, min: 1 })).toThrow(invalidError('x', 'expected an integer'));
  });
});

describe('requireArray', () => {
  it('returns the array itself, the empty array included', () => {
    const value: unknown[] = [];
    expect(requireArray(value, 'p')).toBe(value);
    const full = [1, 'a'];
    expect(requireArray(full, 'p')).toBe(full);
  });

  it('refuses non-arrays, naming what it got', () => {
    expect(() => requireArray({}, 'messages')).toThrow(invalidError('messages', 'expected an array, got an object'));
    expect(() => requireArray('a', 'messages')).toThrow(invalidError('messages', 'expected an array, got a string'));
    expect(() => requireArray(undefined, 'messages')).toThrow(invalidError('messages', 'expected an array, got nothing'));
  });
});

describe('requireTextOrArray', () => {
  it('returns text or the array itself', () => {
    expect(requireTextOrArray('', 'p')).toBe('');
    expect(requireTextOrArray('hi', 'p')).toBe('hi');
    const parts: unknown[] = [];
    expect(requireTextOrArray(parts, 'p')).toBe(parts);
  });

  it('refuses anything else, naming both shapes it takes and what it got', () => {
    expect(() => requireTextOrArray({}, 'system')).toThrow(invalidError('system', 'expected a string or an array of parts, got an object'));
    expect(() => requireTextOrArray(5, 'system')).toThrow(invalidError('system', 'expected a string or an array of parts, got a number'));
    expect(() => requireTextOrArray(null, 'system')).toThrow(invalidError('system', 'expected a string or an array of parts, got null'));
    expect(() => requireTextOrArray(undefined, 'system')).toThrow(invalidError('system', 'expected a string or an array of parts, got nothing'));
  });
});

describe('requireModel', () => {
  it('returns the model name once the configuration knows it, asking about that name', () => {
    const asked: string[] = [];
    const model = requireModel({ model: 'm' }, (name) => {
      asked.push(name);
      return true;
    });
    expect(model).toBe('m');
    expect(asked).toEqual(['m']);
  });

  it('refuses a missing, empty or non-string model before asking the configuration', () => {
    const asked: string[] = [];
    const hasModel = (name: string) => {
      asked.push(name);
      return true;
    };
    expect(() => requireModel({}, hasModel)).toThrow(invalidError('model', 'expected a model name, got nothing'));
    expect(() => requireModel({ model: '' }, hasModel)).toThrow(invalidError('model', 'expected a model name, got a string'));
    expect(() => requireModel({ model: 5 }, hasModel)).toThrow(invalidError('model', 'expected a model name, got a number'));
    expect(() => requireModel({ model: null }, hasModel)).toThrow(invalidError('model', 'expected a model name, got null'));
    expect(() => requireModel({ model: ['m'] }, hasModel)).toThrow(invalidError('model', 'expected a model name, got an array'));
    expect(asked).toEqual([]);
  });

  it('refuses an unknown model with a message naming it (no field prefix) and param model', () => {
    const error = caught(() => requireModel({ model: 'gpt-x' }, () => false));
    expect(error.code).toBe('request.invalid');
    expect(error.message).toBe('unknown model "gpt-x"');
    expect(error.details).toStrictEqual({ param: 'model' });
  });
});

describe('argumentsObject', () => {
  it('reads empty or blank arguments text as an empty object', () => {
    expect(argumentsObject('')).toStrictEqual({});
    expect(argumentsObject('   \n\t')).toStrictEqual({});
  });

  it('parses a JSON object, surrounding blanks allowed', () => {
    expect(argumentsObject('{"q":"x","n":1}')).toStrictEqual({ q: 'x', n: 1 });
    expect(argumentsObject(' {"a":[1]} ')).toStrictEqual({ a: [1] });
    expect(argumentsObject('{}')).toStrictEqual({});
  });

  it('wraps JSON that is not an object under `value`', () => {
    expect(argumentsObject('[1,2]')).toStrictEqual({ value: [1, 2] });
    expect(argumentsObject('3')).toStrictEqual({ value: 3 });
    expect(argumentsObject('"s"')).toStrictEqual({ value: 's' });
    expect(argumentsObject('null')).toStrictEqual({ value: null });
    expect(argumentsObject('false')).toStrictEqual({ value: false });
  });

  it('keeps text that is not JSON under `_raw`, as it was', () => {
    expect(argumentsObject('{"q":')).toStrictEqual({ _raw: '{"q":' });
    expect(argumentsObject(' not json ')).toStrictEqual({ _raw: ' not json ' });
  });
});
