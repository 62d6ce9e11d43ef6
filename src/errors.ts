/**
 * The typed error family. Every failure a user can cause or meet is one of these; `main` is the
 * only place that turns them into exit codes and output (contract: 0 ok, 1 failure, 2 usage,
 * 3 drift, 4 credentials, 130 interrupted).
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  drift: 3,
  credentials: 4,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface VoxErrorOptions {
  hint?: string | undefined;
  cause?: unknown;
  /** Extra machine-readable fields for `--json` error documents. */
  details?: Record<string, unknown> | undefined;
}

export class VoxError extends Error {
  readonly code: string;
  readonly exitCode: number;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, exitCode: number, message: string, options: VoxErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
    this.hint = options.hint;
    this.details = options.details;
  }
}

/**
 * Bad flags, arguments, config values or input files. Exit 2. No default hint: "Run with --help"
 * helps with a flag, not with a bad row or file, so each site names its own fix.
 */
export class UsageError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('usage', ExitCode.usage, message, options);
  }
}

/** Credentials missing or rejected (Vapi 401, Supabase 401, ngrok token). Exit 4. */
export class AuthError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('credentials', ExitCode.credentials, message, { hint: 'Run `voxctl doctor` to check your credentials.', ...options });
  }
}

/** A remote service answered with an error or could not be reached. Exit 1. */
export class ApiError extends VoxError {
  readonly status: number | undefined;
  constructor(message: string, options: VoxErrorOptions & { status?: number | undefined; code?: string } = {}) {
    super(options.code ?? 'api', ExitCode.failure, message, options);
    this.status = options.status;
  }
}

/** The thing named does not exist (unknown org, unknown assistant). Exit 1. */
export class NotFoundError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('not_found', ExitCode.failure, message, options);
  }
}

/** The request conflicts with what is stored (an assistant already linked elsewhere). Exit 1. */
export class ConflictError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('conflict', ExitCode.failure, message, options);
  }
}

/**
 * The embedded store stayed locked by another process's write for longer than this process may
 * wait (5 s for commands, ~100 ms for the receiver, which answers 503 `store_busy` with
 * Retry-After instead of freezing). Exit 1.
 */
export class StoreBusyError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('store_busy', ExitCode.failure, message, options);
  }
}

/** Ctrl-C or a cancelled prompt. Exit 130. */
export class CancelledError extends VoxError {
  constructor(message = 'Interrupted.', options: VoxErrorOptions = {}) {
    super('interrupted', ExitCode.interrupted, message, options);
  }
}

/** A failure that is not the user's doing: a bug. Exit 1. */
export class InternalError extends VoxError {
  constructor(message: string, options: VoxErrorOptions = {}) {
    super('internal', ExitCode.failure, message, {
      hint: 'This is a bug in voxctl. Re-run with --debug and report the output (secrets are masked).',
      ...options,
    });
  }
}

/** The `--json` document of a failed command (contract: `{ok:false, error:{code, message, hint}}`). */
export function errorDocument(err: VoxError): { ok: false; error: Record<string, unknown> } {
  return { ok: false, error: { ...(err.details ?? {}), code: err.code, message: err.message, hint: err.hint ?? null } };
}

export function isVoxError(e: unknown): e is VoxError {
  return e instanceof VoxError;
}
