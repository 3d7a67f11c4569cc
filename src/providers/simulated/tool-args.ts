import type { ChatTool } from '../../core/chat.ts';

/**
 * Deterministic JSON arguments for a tool call, shaped by the tool's JSON Schema when the request
 * carries one, so a gateway validating arguments sees plausible values.
 */
export function toolArguments(tool: ChatTool | undefined, topic: string, fallback: Record<string, unknown>): string {
  const schema = tool?.function.parameters;
  const properties = schema?.properties as Record<string, Record<string, unknown>> | undefined;
  if (!properties || Object.keys(properties).length === 0) return JSON.stringify(fallback);
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : undefined;
  const names = required && required.length > 0 ? required : Object.keys(properties);
  const args: Record<string, unknown> = {};
  let usedTopic = false;
  for (const name of names) {
    const prop = properties[name] ?? {};
    const isFirstString = !usedTopic && valueType(prop) === 'string' && !Array.isArray(prop.enum);
    if (isFirstString) usedTopic = true;
    args[name] = exampleValue(name, prop, isFirstString ? topic : undefined);
  }
  return JSON.stringify(args);
}

/** A short, stable excerpt of the user's request, used as the main string argument. */
export function topicOf(text: string): string {
  const clean = text
    .replace(/\[sim:[^\]]*\]/gi, '')
    .replace(/\s+/g, ' ')
    .trim();
  const cut = Array.from(clean).slice(0, 60).join('');
  return cut || 'simulated request';
}

function valueType(prop: Record<string, unknown>): string | undefined {
  const type = prop.type;
  return Array.isArray(type) ? (type.find((t) => t !== 'null') as string | undefined) : (type as string | undefined);
}

function exampleValue(name: string, prop: Record<string, unknown>, topic: string | undefined): unknown {
  if (prop.const !== undefined) return prop.const;
  if (Array.isArray(prop.enum) && prop.enum.length > 0) return prop.enum[0];
  if (prop.default !== undefined) return prop.default;
  switch (valueType(prop)) {
    case 'string':
      return topic ?? `sim-${name}`;
    case 'integer':
    case 'number':
      return typeof prop.minimum === 'number' ? prop.minimum : 1;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return topic ?? `sim-${name}`;
  }
}
