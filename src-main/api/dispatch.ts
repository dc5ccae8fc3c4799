/**
 * Validate at the boundary, trust inside (STYLE.md §4). Both hosts (Electron IPC and the
 * browser-mode server) route every request through `dispatch`, so the checks are the same
 * whichever way the UI reaches the engine: unknown channel → unknown_channel, bad payload →
 * invalid_request with the schema issues, thrown errors → an AppError with a stable code.
 */
import type { z } from 'zod';
import { contract, isChannel, type Channel, type Handlers } from './contract.js';
import { err, ok, toAppError, type Result } from './errors.js';

export interface DispatchOptions {
  /** Check responses against the schema too (tests and development builds). */
  validateResponses?: boolean;
}

/** Formats zod issues as `path: message` lines that name the field that was wrong. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

export async function dispatch(
  handlers: Handlers,
  channel: unknown,
  payload: unknown,
  options: DispatchOptions = {},
): Promise<Result<unknown>> {
  if (!isChannel(channel)) {
    return err('unknown_channel', `Unknown channel ${JSON.stringify(String(channel).slice(0, 80))}.`);
  }
  const spec = contract[channel];
  const parsed = spec.request.safeParse(payload ?? {});
  if (!parsed.success) {
    return err('invalid_request', `${channel}: ${describeIssues(parsed.error)}`, { issues: parsed.error.issues });
  }
  try {
    const handler = handlers[channel] as (request: unknown) => Promise<unknown>;
    const response = await handler(parsed.data);
    if (options.validateResponses) {
      const checked = spec.response.safeParse(response);
      if (!checked.success) {
        return err('invalid_response', `${channel}: ${describeIssues(checked.error)}`, {
          issues: checked.error.issues,
        });
      }
    }
    return ok(response);
  } catch (thrown) {
    return { ok: false, error: toAppError(thrown) };
  }
}

export type { Channel };
