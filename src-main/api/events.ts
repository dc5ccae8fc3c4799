/**
 * Events pushed from the engine to the UI. Listeners receive the payload only.
 * Electron forwards them with webContents.send; browser mode over its WebSocket.
 */
import { z } from 'zod';
import { Job, WorkspaceInfo } from './schemas.js';
import type { EventNameLiteral } from './names.js';

export const events = {
  /** A job was created, changed state or reported progress. */
  'job:updated': Job,
  /** A piece of streamed output of a running job (generated tokens, samples, metric points). */
  'job:output': z.object({ jobId: z.string(), data: z.unknown() }),
  /** The catalog changed (dataset, model, run or report added or removed). */
  'catalog:changed': z.object({
    section: z.enum(['datasets', 'models', 'runs', 'reports', 'jobs', 'settings', 'pairSets']),
  }),
  /** Something the user should see in a banner, e.g. a quarantined catalog. */
  'workspace:warning': z.object({ message: z.string() }),
  'workspace:changed': WorkspaceInfo,
} as const satisfies Record<EventNameLiteral, z.ZodType>;

export type EventMap = typeof events;
export type EventName = keyof EventMap;
export type EventPayload<E extends EventName> = z.output<EventMap[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(events, value);
}
