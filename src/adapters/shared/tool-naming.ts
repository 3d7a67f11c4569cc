import { toolFunctionName, toolResourceName } from '../../core/tool-names.ts';

/**
 * Policies name tools `server.tool`. A framework names them as the application did (`search`); an
 * adapter maps one to the other with `toolServer` (`search` → `demo.search`), or without it reads a
 * `server__tool` function name as `server.tool` (function names cannot contain dots).
 */
export interface ToolNaming {
  /** The tool server the framework's tools belong to in policies, e.g. `demo`. */
  toolServer?: string;
}

/** The policy resource of a framework tool name. */
export function toolResource(name: string, naming: ToolNaming = {}): string {
  return naming.toolServer ? `${naming.toolServer}.${name}` : toolResourceName(name);
}

/** The chat function name that `run.checkToolCalls` maps back to the same resource. */
export function chatFunctionName(name: string, naming: ToolNaming = {}): string {
  return toolFunctionName(toolResource(name, naming));
}
