import { randomUUID } from 'node:crypto';

/**
 * Run ids. A client names a run (`x-fmguard-run`, `startRun({ id })`) with 1–128 letters, digits,
 * ".", "_", ":" or "-"; the run is stored under `<name>@<agent>`, so two agents naming the same
 * string never share a run and nobody can take a name before its owner uses it. The client keeps
 * seeing the name it sent; the admin API, kill switches and the audit log use the scoped id.
 * A scoped id may be given back (`report@planner`): as a run only by its own agent, as a parent
 * by its own agent or one its agent `delegatesTo`.
 */
const NAME = /^[A-Za-z0-9._:-]{1,128}$/;

/** A new run's name: a random UUID (122 random bits from the CSPRNG), never guessable from another. */
export function mintRunName(): string {
  return `run_${randomUUID()}`;
}

/** `name@agent`. */
export function scopeRunId(name: string, agent: string): string {
  return `${name}@${agent}`;
}

/** What the client named: the scoped id without its agent. */
export function runName(id: string): string {
  const at = id.indexOf('@');
  return at < 0 ? id : id.slice(0, at);
}

/** A run id as a client gave it: its name, and the agent it names (absent for a bare name). Undefined when malformed. */
export function parseRunId(text: unknown): { name: string; agent?: string } | undefined {
  if (typeof text !== 'string') return undefined;
  const at = text.indexOf('@');
  const name = at < 0 ? text : text.slice(0, at);
  if (!NAME.test(name)) return undefined;
  if (at < 0) return { name };
  const agent = text.slice(at + 1);
  return agent.length > 0 && agent.length <= 256 ? { name, agent } : undefined;
}
