import { codeInfo, type RetryHint, type StopCode } from './codes.ts';

const MARKER = Symbol.for('fmguard.GuardError');

/** The numbers behind a stop, where they apply. Money is in USD, time in ms. */
export interface GuardErrorDetails {
  limit?: number;
  used?: number;
  requested?: number;
  retryAfterMs?: number;
  scope?: string;
  runId?: string;
  [key: string]: unknown;
}

/**
 * The one error class for every refusal or stop. `code` comes from the catalogue; `details` carries
 * the numbers involved; `retryable` says whether trying again can help.
 */
export class GuardError extends Error {
  readonly [MARKER] = true;
  readonly code: StopCode;
  readonly details: GuardErrorDetails;

  constructor(code: StopCode, message: string, details: GuardErrorDetails = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GuardError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return codeInfo(this.code).http;
  }

  get retry(): RetryHint {
    return codeInfo(this.code).retry;
  }

  get retryable(): boolean {
    return this.retry !== 'no';
  }

  get terminal(): boolean {
    return codeInfo(this.code).terminal;
  }

  static isInstance(value: unknown): value is GuardError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }

  toJSON(): { code: StopCode; message: string; details: GuardErrorDetails; retryable: boolean } {
    return { code: this.code, message: this.message, details: this.details, retryable: this.retryable };
  }
}

export function guardError(code: StopCode, message: string, details?: GuardErrorDetails, cause?: unknown): GuardError {
  return new GuardError(code, message, details, cause === undefined ? undefined : { cause });
}
