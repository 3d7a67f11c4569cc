/**
 * Tools are named `server.tool` in policies and the audit log. OpenAI function names cannot contain
 * dots, so a gateway exposes them to models as `server__tool`; this maps a function name back.
 */
export const TOOL_NAME_SEPARATOR = '__';

export function toolResourceName(functionName: string): string {
  const i = functionName.indexOf(TOOL_NAME_SEPARATOR);
  return i > 0 ? `${functionName.slice(0, i)}.${functionName.slice(i + TOOL_NAME_SEPARATOR.length)}` : functionName;
}

/** The other way: `server.tool` as a function name a model can call (`server__tool`). */
export function toolFunctionName(resource: string): string {
  const i = resource.indexOf('.');
  return i > 0 ? `${resource.slice(0, i)}${TOOL_NAME_SEPARATOR}${resource.slice(i + 1)}` : resource;
}
