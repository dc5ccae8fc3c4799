/**
 * Channel and event names only, with no runtime dependency: the sandboxed preload bundles this
 * file alone as its allowlist. contract.ts and events.ts must define exactly these keys
 * (enforced by their `satisfies` clauses and by test/api/contract.test.ts).
 */
export const CHANNEL_NAMES = [
  'app:info',
  'backend:info',
  'workspace:info',
  'settings:get',
  'settings:update',
  'dataset:list',
  'dataset:formats',
  'dataset:detect',
  'dataset:get',
  'dataset:delete',
  'signals:rubric',
  'signals:report',
  'classifier:list',
  'conversation:list',
  'conversation:get',
  'pair:list',
  'pair:get',
  'pair:decide',
  'pair:undo',
  'pair:export',
  'pairset:freeze',
  'pairset:list',
  'pairset:get',
  'model:list',
  'model:get',
  'model:inspect',
  'model:delete',
  'run:list',
  'run:get',
  'run:metrics',
  'run:samples',
  'run:pairs',
  'run:pause',
  'run:resume',
  'run:cancel',
  'report:list',
  'eval:list',
  'eval:get',
  'eval:responses',
  'report:get',
  'report:export',
  'report:pdf',
  'job:list',
  'job:get',
  'job:start',
  'job:cancel',
  'dialog:open',
  'link:open',
] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export const EVENT_NAME_LIST = [
  'job:updated',
  'job:output',
  'catalog:changed',
  'workspace:warning',
  'workspace:changed',
] as const;
export type EventNameLiteral = (typeof EVENT_NAME_LIST)[number];

/** Prefix of the IPC channel that carries engine events to the renderer. */
export const EVENT_CHANNEL_PREFIX = 'event:';
