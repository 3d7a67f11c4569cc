import { GuardError } from '../../core/errors.ts';

/** The parts of the store that may answer permissively while Redis is away. Runs never do. */
export type FailOpenPart = 'ledger' | 'rates' | 'kills';

/**
 * `true` fails open everywhere allowed; an object chooses per part. Default: closed everywhere.
 * Failing open means: reserve and take succeed without being recorded, balances read zero, kill
 * switches read as none, the repeat tracker counts 1. Writes an operator waits on (kill set/clear)
 * and runs always fail closed.
 */
export type FailOpenOption = boolean | Partial<Record<FailOpenPart, boolean>>;

export class FailPolicy {
  constructor(
    private readonly option: FailOpenOption,
    private readonly onFailOpen?: (part: FailOpenPart, error: GuardError) => void,
  ) {}

  isOpen(part: FailOpenPart): boolean {
    return typeof this.option === 'boolean' ? this.option : this.option[part] === true;
  }

  /** Run `op`; if the store is unavailable and `part` fails open, answer with `fallback` instead. */
  async guard<T>(part: FailOpenPart, op: () => Promise<T>, fallback: () => T): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (!GuardError.isInstance(err) || err.code !== 'store.unavailable' || !this.isOpen(part)) throw err;
      try {
        this.onFailOpen?.(part, err);
      } catch {
        // An observer's failure must not turn the permissive answer into an error.
      }
      return fallback();
    }
  }
}
