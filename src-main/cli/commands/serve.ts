/** `drift-wb serve`: browser mode, until SIGINT or SIGTERM. */
import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_HOST, startServer } from '../../server/index.js';
import { call, defaultStaticDir, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { commandError, EXIT_FAILURE, EXIT_OK } from '../output.js';

export const DEFAULT_PORT = 7860;

interface ServeOptions {
  host: string;
  port: number;
  static?: string;
}

export function registerServe(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description('serve the workbench UI and API to a web browser (browser mode), until Ctrl+C')
    .option(
      '--host <address>',
      'address to listen on; anything but loopback exposes the workspace to the network',
      DEFAULT_HOST,
    )
    .option('--port <number>', 'port to listen on (0 picks a free one)', parsePort, DEFAULT_PORT)
    .option('--static <dir>', 'built renderer folder (default: out/renderer in the package)')
    .action((options: ServeOptions, command: Command) => run(command, (context) => serve(options, command, context)));
}

async function serve(options: ServeOptions, command: Command, { globals, output }: CommandContext): Promise<number> {
  const staticDir = path.resolve(options.static ?? defaultStaticDir());
  if (!existsSync(path.join(staticDir, 'index.html'))) {
    throw commandError(
      'renderer_not_built',
      `No built UI at ${staticDir} (index.html is missing).`,
      options.static === undefined
        ? 'Run `npm run build` first (or `npm run serve`, which builds and serves).'
        : 'Pass --static the folder that holds the built renderer and its index.html.',
    );
  }
  return withEngine(globals, 'browser', async (engine, handlers) => {
    const server = await startServer({
      engine,
      staticDir,
      host: options.host,
      port: options.port,
      // Only a host the user typed may expose the workspace beyond this machine.
      allowNonLoopback: command.getOptionValueSource('host') === 'cli',
      warn: (message) => output.note(message),
    });
    const stop = waitForStopSignal();
    output.result({ url: server.url, host: server.host, port: server.port, token: server.token }, server.url);
    output.note(`Browser mode for workspace ${engine.workspaceDir}`);
    for (const warning of (await call(handlers, 'workspace:info', {})).warnings) output.note(`warning: ${warning}`);
    output.note('Open the address above in a browser. Press Ctrl+C to stop.');

    const signal = await stop;
    output.note(`Received ${signal}; stopping (press Ctrl+C again to force).`);
    const force = () => process.exit(EXIT_FAILURE);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    await server.close();
    return EXIT_OK;
  });
}

function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError('expected a port number from 0 to 65535.');
  }
  return port;
}
