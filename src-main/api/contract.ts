/**
 * The one contract between the UI and the engine. Every host derives from this table:
 * the Electron IPC handlers (src-main/shell), the preload allowlist (src-main/preload),
 * the browser-mode HTTP routes (src-main/server) and the renderer client
 * (src-renderer/src/lib/api.ts). test/api/contract.test.ts checks they agree key by key.
 *
 * Channel names are `noun:verb`. Requests and responses are validated with these schemas
 * at the boundary (host side); inner code trusts typed values.
 */
import { z } from 'zod';
import {
  BackendInfo,
  DatasetEntry,
  Id,
  Job,
  JobKind,
  ModelEntry,
  ReportEntry,
  RunEntry,
  Settings,
  WorkspaceInfo,
} from './schemas.js';
import type { ChannelName } from './names.js';

const Empty = z.object({}).strict();

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  /** Which host serves the UI. */
  host: z.enum(['electron', 'browser']),
  platform: z.string(),
  nodeVersion: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const contract = {
  'app:info': { request: Empty, response: AppInfo },
  'backend:info': { request: Empty, response: BackendInfo },
  'workspace:info': { request: Empty, response: WorkspaceInfo },
  'settings:get': { request: Empty, response: Settings },
  'settings:update': { request: Settings.partial().strict(), response: Settings },
  'dataset:list': { request: Empty, response: z.array(DatasetEntry) },
  'model:list': { request: Empty, response: z.array(ModelEntry) },
  'run:list': { request: Empty, response: z.array(RunEntry) },
  'report:list': { request: Empty, response: z.array(ReportEntry) },
  'job:list': { request: Empty, response: z.array(Job) },
  'job:get': { request: z.object({ id: Id }).strict(), response: Job },
  'job:start': {
    request: z.object({ kind: JobKind, params: z.record(z.string(), z.unknown()).default({}) }).strict(),
    response: Job,
  },
  'job:cancel': { request: z.object({ id: Id }).strict(), response: Job },
  /** Native file or folder picker. Desktop only; browser mode answers unsupported_in_browser_mode. */
  'dialog:open': {
    request: z
      .object({
        kind: z.enum(['file', 'folder']),
        title: z.string().max(200).optional(),
        multiple: z.boolean().optional(),
        filters: z
          .array(
            z.object({ name: z.string().max(100), extensions: z.array(z.string().regex(/^[A-Za-z0-9.*]{1,16}$/)) }),
          )
          .max(20)
          .optional(),
      })
      .strict(),
    response: z.object({ canceled: z.boolean(), paths: z.array(z.string()) }),
  },
  /** Opens an https:// link in the system browser, through the one checked function. */
  'link:open': {
    request: z.object({ url: z.string().max(2048) }).strict(),
    response: z.object({ opened: z.boolean() }),
  },
} as const satisfies Record<ChannelName, { request: z.ZodType; response: z.ZodType }>;

export type Contract = typeof contract;
export type Channel = keyof Contract;
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Contract[C]['response']>;

export const CHANNELS = Object.keys(contract) as Channel[];

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && Object.hasOwn(contract, value);
}

/**
 * Channels each host implements itself (native dialogs, the system browser); every other
 * channel is served by the engine's handler table. Browser mode answers dialog:open with
 * unsupported_in_browser_mode.
 */
export const HOST_CHANNELS = ['dialog:open', 'link:open'] as const;
export type HostChannel = (typeof HOST_CHANNELS)[number];
export type EngineChannel = Exclude<Channel, HostChannel>;

/** A handler for one channel: takes the parsed request, returns the response or throws AppFailure. */
export type Handler<C extends Channel> = (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>>;
/** A handler table for one host: one async function per channel. */
export type Handlers = { [C in Channel]: Handler<C> };
export type EngineHandlers = { [C in EngineChannel]: Handler<C> };
export type HostHandlers = { [C in HostChannel]: Handler<C> };
