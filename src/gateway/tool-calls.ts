import type { ChatMessage, ChatResponse, ChatToolCall } from '../core/chat.ts';
import { GuardError } from '../core/errors.ts';
import type { Run } from '../runtime/run.ts';

/**
 * Decision step 11 (ARCHITECTURE.md): the tool calls a model proposes are checked (policy, loop detectors) before
 * they reach the agent. The check belongs to the runtime: `run.checkToolCalls(calls, conversation)`,
 * feature-detected here. It may return the violations (`[{ call, error }]`) or throw a GuardError
 * for the first one; both are accepted. Each violation acted on is reported through `run.refuse`
 * (when present), which also ends the run for a terminal code such as a loop. The gateway only
 * decides what the agent sees: the error (`refuse`, the default), or the response without the
 * offending calls and a note saying why (`strip`).
 */
export type ToolCallViolation = 'refuse' | 'strip';

export interface ProposedCallViolation {
  call: ChatToolCall;
  error: GuardError;
}

/** The runtime's check, normalised, and how an acted-on violation is reported. */
export interface ToolCallCheck {
  /** Resolves to the violations, or throws a GuardError naming the first. */
  check(calls: readonly ChatToolCall[]): Promise<ProposedCallViolation[]>;
  /** Report a violation the gateway acted on (audit, events, the run stopped if terminal); returns what to send. */
  refuse(violation: ProposedCallViolation): Promise<GuardError>;
}

export interface Judged {
  kept: ChatToolCall[];
  /** One line per stripped call. */
  notes: string[];
}

function isViolation(value: unknown): value is ProposedCallViolation {
  return (
    typeof value === 'object' &&
    value !== null &&
    GuardError.isInstance((value as ProposedCallViolation).error) &&
    typeof (value as ProposedCallViolation).call === 'object'
  );
}

type Method = (this: Run, ...args: unknown[]) => unknown;

function method(run: Run, name: string): Method | undefined {
  const fn = (run as unknown as Record<string, unknown>)[name];
  return typeof fn === 'function' ? (fn as Method) : undefined;
}

/** `run.checkToolCalls` (and `run.refuse`) when the runtime has them; undefined means nothing to check or buffer. */
export function toolCallCheck(run: Run, conversation: readonly ChatMessage[]): ToolCallCheck | undefined {
  const checkFn = method(run, 'checkToolCalls');
  if (!checkFn) return undefined;
  const refuseFn = method(run, 'refuse');
  return {
    async check(calls) {
      const result: unknown = await checkFn.call(run, calls, conversation);
      return Array.isArray(result) ? result.filter(isViolation) : [];
    },
    async refuse({ call, error }) {
      if (!refuseFn) return error;
      const final: unknown = await refuseFn.call(run, error, call.function?.name ?? '');
      return GuardError.isInstance(final) ? final : error;
    },
  };
}

function note(call: ChatToolCall, error: GuardError): string {
  return `[fmguard removed the tool call ${call.function?.name || '(unnamed)'} (${error.code}): ${error.message}]`;
}

/** Which of `calls` a violation names: the same object, else the same id. */
function violates(call: ChatToolCall, violations: ProposedCallViolation[]): ProposedCallViolation | undefined {
  return violations.find((v) => v.call === call) ?? violations.find((v) => v.call.id !== undefined && v.call.id === call.id);
}

/**
 * Judge one choice's calls together. `refuse`: the first violation is thrown. `strip`: offending
 * calls are dropped with a note each; a checker that throws (naming only the first violation) is
 * asked again one call at a time. Errors that are not GuardErrors always throw.
 */
export async function judgeToolCalls(gate: ToolCallCheck, calls: ChatToolCall[], mode: ToolCallViolation): Promise<Judged> {
  let violations: ProposedCallViolation[];
  try {
    violations = await gate.check(calls);
  } catch (error) {
    if (mode === 'refuse' || !GuardError.isInstance(error)) throw error;
    violations = [];
    for (const call of calls) {
      try {
        violations.push(...(await gate.check([call])));
      } catch (single) {
        if (!GuardError.isInstance(single)) throw single;
        violations.push({ call, error: single });
      }
    }
  }
  if (violations.length === 0) return { kept: calls, notes: [] };
  if (mode === 'refuse') throw await gate.refuse(violations[0]!);
  const kept: ChatToolCall[] = [];
  const notes: string[] = [];
  for (const call of calls) {
    const violation = violates(call, violations);
    if (!violation) {
      kept.push(call);
      continue;
    }
    // Reported like a refusal (audit, events; a loop still ends the run), but the response goes out.
    await gate.refuse(violation);
    notes.push(note(call, violation.error));
  }
  return { kept, notes };
}

/** The content a stripped response carries: what the model wrote, then the notes. */
export function withNotes(content: string | null | undefined, notes: string[]): string {
  const text = notes.join('\n');
  return content ? `${content}\n\n${text}` : text;
}

export function hasToolCalls(response: ChatResponse): boolean {
  return response.choices?.some((choice) => (choice.message?.tool_calls?.length ?? 0) > 0) ?? false;
}

/** Check a non-streaming response in place; throws the refusal in `refuse` mode. */
export async function checkResponseToolCalls(response: ChatResponse, check: ToolCallCheck, mode: ToolCallViolation, chargedUsd?: number): Promise<void> {
  for (const choice of response.choices ?? []) {
    const message = choice.message;
    const calls = message?.tool_calls;
    if (!calls || calls.length === 0) continue;
    const { kept, notes } = await judgeToolCalls(chargedUsd === undefined ? check : chargedCheck(check, chargedUsd), calls, mode);
    if (notes.length === 0) continue;
    if (kept.length > 0) message.tool_calls = kept;
    else {
      delete message.tool_calls;
      // No call left to run: an agent loop must not wait for tool results.
      if (choice.finish_reason === 'tool_calls') choice.finish_reason = 'stop';
    }
    message.content = withNotes(message.content, notes);
  }
}

/**
 * The response was generated (and billed by the provider) before its tool calls were judged: a
 * refusal of it is charged, and its error body and audit event say so.
 */
function chargedCheck(check: ToolCallCheck, chargedUsd: number): ToolCallCheck {
  return {
    async check(calls) {
      try {
        return await check.check(calls);
      } catch (error) {
        if (GuardError.isInstance(error)) Object.assign(error.details, { charged: true, chargedUsd });
        throw error;
      }
    },
    refuse(violation) {
      violation.error.details.charged = true;
      violation.error.details.chargedUsd = chargedUsd;
      return check.refuse(violation);
    },
  };
}
