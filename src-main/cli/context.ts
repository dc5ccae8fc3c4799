/**
 * What every command shares: the global options, opening and always closing the engine, and
 * calling the contract through `dispatch` (the same validation the UI's requests get).
 */
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AppFailure,
  dispatch,
  type Channel,
  type Handlers,
  type HostHandlers,
  type RequestOf,
  type ResponseOf,
} from '../api/index.js';
import { openEngine, type Engine, type HostKind } from '../engine/index.js';
import { CommandError, type Output } from './output.js';

export interface GlobalOptions {
  /** Absolute workspace folder. */
  workspace: string;
  json: boolean;
}

export interface CommandContext {
  globals: GlobalOptions;
  output: Output;
}

/** Runs a command body and records its exit code; errors it throws are reported by the runner. */
export type CommandRunner = (command: Command, body: (context: CommandContext) => Promise<number>) => Promise<void>;

export function readGlobalOptions(command: Command): GlobalOptions {
  const options = command.optsWithGlobals<{ workspace: string; json?: boolean }>();
  return { workspace: path.resolve(options.workspace), json: options.json === true };
}

/** The CLI's answers for the host channels: there is no window, so no dialog and no browser. */
export const CLI_HOST_HANDLERS: HostHandlers = {
  'dialog:open': async () => {
    throw new AppFailure(
      'unsupported_in_browser_mode',
      'The command line has no file dialogs; pass paths as arguments.',
    );
  },
  'link:open': async () => ({ opened: false }),
};

/** Opens the engine on the workspace, runs `work`, and closes the engine whatever happens. */
export async function withEngine<T>(
  globals: GlobalOptions,
  host: HostKind,
  work: (engine: Engine, handlers: Handlers) => Promise<T>,
): Promise<T> {
  const engine = await openEngine({ workspaceDir: globals.workspace, host });
  try {
    return await work(engine, { ...engine.handlers, ...CLI_HOST_HANDLERS });
  } finally {
    await engine.close();
  }
}

/** Calls one channel through `dispatch`; a failed Result becomes a CommandError. */
export async function call<C extends Channel>(
  handlers: Handlers,
  channel: C,
  request: RequestOf<C>,
): Promise<ResponseOf<C>> {
  const result = await dispatch(handlers, channel, request);
  if (!result.ok) throw new CommandError(result.error);
  return result.value as ResponseOf<C>;
}

let cachedPackageRoot: string | undefined;

/** The folder holding the workbench's package.json (where `out/renderer` is built). */
export function packageRoot(): string {
  if (cachedPackageRoot) return cachedPackageRoot;
  let directory = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(directory, 'package.json');
    if (existsSync(manifest) && readPackageName(manifest) === 'drift-workbench') {
      cachedPackageRoot = directory;
      return directory;
    }
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error('Cannot find the drift-workbench package.json above the CLI.');
    directory = parent;
  }
}

/** The built renderer served by `serve` unless --static says otherwise. */
export function defaultStaticDir(): string {
  return path.join(packageRoot(), 'out', 'renderer');
}

function readPackageName(manifest: string): unknown {
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
  } catch {
    return undefined;
  }
}
