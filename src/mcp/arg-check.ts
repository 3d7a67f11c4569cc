import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import { guardError, type GuardError } from '../core/errors.ts';

type Check = (args: unknown) => GuardError | undefined;

/**
 * Arguments checked against the tool's `inputSchema` (JSON Schema, with the validator the MCP SDK
 * ships) before the call goes upstream. Each schema is compiled once per tool list.
 */
export class ArgumentChecker {
  private readonly validator = new AjvJsonSchemaValidator();
  private readonly compiled = new WeakMap<Tool, Check>();

  /** The refusal for these arguments, or undefined when they fit. */
  check(resource: string, tool: Tool, args: unknown): GuardError | undefined {
    let check = this.compiled.get(tool);
    if (!check) {
      check = this.compile(resource, tool);
      this.compiled.set(tool, check);
    }
    return check(args);
  }

  private compile(resource: string, tool: Tool): Check {
    let validate: JsonSchemaValidator<unknown>;
    try {
      validate = this.validator.getValidator(tool.inputSchema as JsonSchemaType);
    } catch (error) {
      // The server's schema is broken: that is the server's failure, not the agent's.
      const why = error instanceof Error ? error.message : String(error);
      return () => guardError('upstream.error', `${resource}: the tool's input schema cannot be used: ${why}`, { tool: resource });
    }
    return (args) => {
      const result = validate(args);
      if (result.valid) return undefined;
      const why = result.errorMessage.replace(/(^|, )data(?=[/ ])/g, '$1arguments');
      return guardError('request.invalid', `arguments for ${resource} do not match its input schema: ${why}`, { tool: resource, param: 'arguments' });
    };
  }
}
