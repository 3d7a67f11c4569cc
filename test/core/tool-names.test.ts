import { describe, expect, it } from 'vitest';
import { TOOL_NAME_SEPARATOR, toolFunctionName, toolResourceName } from '../../src/core/tool-names.ts';

/**
 * Policies and the audit log name tools `server.tool`; OpenAI function names cannot contain dots, so
 * models see `server__tool` (README: "name them `demo__search`"). The first separator splits the
 * server from the tool; a name without a server part is left as it is.
 */
describe('tool names', () => {
  it('the separator is a double underscore', () => {
    expect(TOOL_NAME_SEPARATOR).toBe('__');
  });

  it('reads `server__tool` as `server.tool`', () => {
    expect(toolResourceName('demo__search')).toBe('demo.search');
    expect(toolResourceName('a__b')).toBe('a.b');
    expect(toolResourceName('files__read_file')).toBe('files.read_file');
    // Only the first separator splits: the tool keeps the rest of the name.
    expect(toolResourceName('demo__web__search')).toBe('demo.web__search');
    expect(toolResourceName('demo___x')).toBe('demo._x');
  });

  it('leaves a function name without a server part as it is', () => {
    expect(toolResourceName('search')).toBe('search');
    expect(toolResourceName('read_file')).toBe('read_file');
    expect(toolResourceName('')).toBe('');
    // A leading separator names no server.
    expect(toolResourceName('__search')).toBe('__search');
    expect(toolResourceName('demo__')).toBe('demo.');
  });

  it('writes `server.tool` as `server__tool`', () => {
    expect(toolFunctionName('demo.search')).toBe('demo__search');
    expect(toolFunctionName('a.b')).toBe('a__b');
    expect(toolFunctionName('files.read_file')).toBe('files__read_file');
    expect(toolFunctionName('demo.web.search')).toBe('demo__web.search');
  });

  it('leaves a resource without a server part as it is', () => {
    expect(toolFunctionName('search')).toBe('search');
    expect(toolFunctionName('')).toBe('');
    expect(toolFunctionName('.search')).toBe('.search');
  });

  it('the two directions are inverse for `server.tool` names', () => {
    for (const resource of ['demo.search', 'a.b', 'files.read_file', 'crm.lookup_customer']) {
      expect(toolResourceName(toolFunctionName(resource))).toBe(resource);
    }
    for (const fn of ['demo__search', 'x__y']) expect(toolFunctionName(toolResourceName(fn))).toBe(fn);
  });
});
