/**
 * How every command reports. Results go to stdout: with --json exactly one JSON document, else
 * lines for a person. Progress, notes and errors go to stderr, so stdout stays parseable.
 * Errors read `error [code]: message` then `  hint: what to do next`.
 */
import { ERROR_CODES, isErrorCode, toAppError, type AppError, type ErrorCode } from '../api/index.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A failure a command reports to the user; carries the AppError and the exit code. */
export class CommandError extends Error {
  readonly error: AppError;
  readonly exitCode: number;
  constructor(error: AppError, exitCode: number = EXIT_FAILURE) {
    super(error.message);
    this.name = 'CommandError';
    this.error = error;
    this.exitCode = exitCode;
  }
}

/** Builds a CommandError with the code's default hint unless another is given. */
export function commandError(code: ErrorCode, message: string, hint?: string, exitCode?: number): CommandError {
  return new CommandError({ code, message, hint: hint ?? ERROR_CODES[code] }, exitCode);
}

/** The AppError behind anything a command threw. */
export function errorOf(thrown: unknown): AppError {
  if (thrown instanceof CommandError) return thrown.error;
  return toAppError(thrown);
}

/** Formats an error for stderr; takes job errors too, whose code is a plain string. */
export function formatError(error: { code: string; message: string; hint?: string }): string {
  const code = isErrorCode(error.code) ? error.code : 'internal_error';
  const hint = error.hint ?? ERROR_CODES[code];
  return `error [${error.code}]: ${error.message}\n  hint: ${hint}\n`;
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export class Output {
  readonly json: boolean;
  readonly #streams: OutputStreams;
  #printedDocument = false;

  constructor(json: boolean, streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }) {
    this.json = json;
    this.#streams = streams;
  }

  /** Prints the command's result: `summary` as one JSON line with --json, else the human lines. */
  result(summary: unknown, human: string | readonly string[]): void {
    if (this.json) {
      this.#document(summary);
      return;
    }
    const lines = typeof human === 'string' ? [human] : human;
    this.#streams.stdout.write(lines.map((line) => `${line}\n`).join(''));
  }

  /** A line for a person on stderr (never pollutes stdout, even without --json). */
  note(line: string): void {
    this.#streams.stderr.write(`${line}\n`);
  }

  /**
   * Reports a failure: the formatted error on stderr and, with --json and nothing printed yet,
   * `{"ok": false, "error": ...}` as the one document on stdout.
   */
  error(error: AppError): void {
    this.#streams.stderr.write(formatError(error));
    if (this.json && !this.#printedDocument) this.#document({ ok: false, error });
  }

  #document(value: unknown): void {
    if (this.#printedDocument) throw new Error('A command printed a second JSON document on stdout.');
    this.#printedDocument = true;
    this.#streams.stdout.write(`${JSON.stringify(value)}\n`);
  }
}
