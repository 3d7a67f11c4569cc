import type { ChatMessage, ChatRequest } from '../../core/chat.ts';
import { contentText } from './tokens.ts';

/**
 * A scenario is the behaviour the simulated model plays for one request. It is chosen per request, in
 * this order: the request field `sim` (the HTTP server also fills it from the `x-sim-scenario` header),
 * the newest `[sim:…]` directive in the user messages, the `models` mapping for the requested model name,
 * then the default.
 */
export type SimScenario =
  | { name: 'answer' }
  | { name: 'tool_call'; tool?: string }
  | { name: 'tool_loop'; tool?: string }
  | { name: 'forbidden_tool'; tool?: string }
  | { name: 'refine' }
  | { name: 'no_progress' }
  | { name: 'stall'; afterChunks?: number }
  | { name: 'stall_first' }
  | { name: 'fail'; rate?: number; status?: number }
  | { name: 'throttle'; rate?: number; retryAfterMs?: number }
  | { name: 'long'; tokens?: number };

export type SimScenarioName = SimScenario['name'];

/** A scenario as written: an object, or text like `fail 0.5 503`, `tool_loop search`, `loop`. */
export type SimScenarioInput = SimScenario | string;

export const SCENARIO_NAMES: readonly SimScenarioName[] = [
  'answer',
  'tool_call',
  'tool_loop',
  'forbidden_tool',
  'refine',
  'no_progress',
  'stall',
  'stall_first',
  'fail',
  'throttle',
  'long',
];

const ALIASES: Record<string, SimScenarioName> = { loop: 'tool_loop', tool: 'tool_call', forbidden: 'forbidden_tool' };

/** Thrown for a scenario that does not parse; the model turns it into a 400 for per-request input. */
export class SimScenarioError extends Error {
  override name = 'SimScenarioError';
}

/** Parse `name arg…`; the positional arguments per scenario are listed on `createSimModel`. */
export function parseScenario(text: string): SimScenario {
  const [rawName = '', ...args] = text.trim().split(/\s+/);
  const lower = rawName.toLowerCase();
  const name = ALIASES[lower] ?? (lower as SimScenarioName);
  if (!SCENARIO_NAMES.includes(name)) throw new SimScenarioError(`unknown sim scenario "${rawName}"`);
  const num = (i: number, what: string, check: (n: number) => boolean): number | undefined => {
    const arg = args[i];
    if (arg === undefined) return undefined;
    const n = Number(arg);
    if (!Number.isFinite(n) || !check(n)) throw new SimScenarioError(`sim scenario "${name}": bad ${what} "${arg}"`);
    return n;
  };
  const rate = (i: number) => num(i, 'rate', (n) => n >= 0 && n <= 1);
  const count = (i: number, what: string) => num(i, what, (n) => Number.isInteger(n) && n >= 0);
  switch (name) {
    case 'tool_call':
    case 'tool_loop':
    case 'forbidden_tool':
      return args[0] ? { name, tool: args[0] } : { name };
    case 'stall':
      return withDefined({ name, afterChunks: count(0, 'chunk count') });
    case 'fail':
      return withDefined({ name, rate: rate(0), status: num(1, 'status', (n) => Number.isInteger(n) && n >= 400 && n <= 599) });
    case 'throttle':
      return withDefined({ name, rate: rate(0), retryAfterMs: count(1, 'retry-after ms') });
    case 'long':
      return withDefined({ name, tokens: count(0, 'token count') });
    default:
      return { name } as SimScenario;
  }
}

/** Normalise an input; throws `SimScenarioError` on an unknown name or bad arguments. */
export function toScenario(input: SimScenarioInput): SimScenario {
  if (typeof input === 'string') return parseScenario(input);
  if (!input || typeof input !== 'object' || !SCENARIO_NAMES.includes(input.name)) {
    throw new SimScenarioError(`unknown sim scenario ${JSON.stringify((input as { name?: unknown })?.name)}`);
  }
  return input;
}

const DIRECTIVE = /\[sim:([^\]]*)\]/i;

/**
 * The newest `[sim:…]` directive in the user messages, if any. Searching back past the last message
 * lets one directive script a whole agent loop ("Make it better." keeps the scenario going).
 */
export function findDirective(messages: readonly ChatMessage[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== 'user') continue;
    const found = DIRECTIVE.exec(contentText(message))?.[1];
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface ScenarioSources {
  defaultScenario: SimScenario;
  modelScenarios: ReadonlyMap<string, SimScenario>;
}

/** Pick the scenario for a request (see `SimScenario` for the order). */
export function selectScenario(req: ChatRequest, sources: ScenarioSources): SimScenario {
  const field = req.sim;
  if (typeof field === 'string' || (field && typeof field === 'object')) return toScenario(field as SimScenarioInput);
  const directive = findDirective(req.messages);
  if (directive !== undefined) return parseScenario(directive);
  return sources.modelScenarios.get(req.model) ?? sources.defaultScenario;
}

/** Drop undefined optional fields so scenarios compare and print cleanly. */
function withDefined<T extends object>(value: T): T {
  for (const key of Object.keys(value) as Array<keyof T>) if (value[key] === undefined) delete value[key];
  return value;
}
