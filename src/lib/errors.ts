/**
 * The one error type sbq raises on purpose. Anything else that reaches the base command is a bug (exit 1).
 * Messages are lowercase, name the object, quote the value; the hint says how to fix it.
 */
export const ExitCode = {
  ok: 0,
  bug: 1,
  invalidInput: 2,
  notFoundOrConflict: 3,
  unreachable: 4,
} as const

export type ExitStatus = (typeof ExitCode)[keyof typeof ExitCode]

export class SbqError extends Error {
  readonly code: string
  readonly exit: ExitStatus
  readonly hint: string | undefined

  constructor(code: string, message: string, options: {exit: ExitStatus; hint?: string; cause?: unknown}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'SbqError'
    this.code = code
    this.exit = options.exit
    this.hint = options.hint
  }
}

export function invalidInput(code: string, message: string, hint?: string): SbqError {
  return new SbqError(code, message, {exit: ExitCode.invalidInput, hint})
}

export function notFound(code: string, message: string, hint?: string): SbqError {
  return new SbqError(code, message, {exit: ExitCode.notFoundOrConflict, hint})
}

export function conflict(code: string, message: string, hint?: string): SbqError {
  return new SbqError(code, message, {exit: ExitCode.notFoundOrConflict, hint})
}

export function unreachable(code: string, message: string, hint?: string, cause?: unknown): SbqError {
  return new SbqError(code, message, {exit: ExitCode.unreachable, hint, cause})
}
