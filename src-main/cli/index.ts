/**
 * `drift-wb`: every workbench feature headless (STYLE.md §6: the CLI is the engine's first
 * client). One file per command under commands/; shared output and progress in output.ts and
 * progress.ts. Exit codes: 0 success, 1 failure, 2 usage error.
 */
import { Command, CommanderError } from 'commander';
import { APP_VERSION, defaultWorkspaceDir } from '../engine/index.js';
import { readGlobalOptions, type CommandRunner } from './context.js';
import { registerDemo } from './commands/demo.js';
import { registerDoctor } from './commands/doctor.js';
import { registerEval } from './commands/eval.js';
import { registerImport } from './commands/import.js';
import { registerJobs } from './commands/jobs.js';
import { registerModel } from './commands/model.js';
import { registerMine } from './commands/mine.js';
import { registerPairs } from './commands/pairs.js';
import { registerRun } from './commands/run.js';
import { registerExport } from './commands/export.js';
import { registerReport } from './commands/report.js';
import { registerSelftest } from './commands/selftest.js';
import { registerServe } from './commands/serve.js';
import { CommandError, errorOf, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, Output } from './output.js';

const USAGE_HINT = 'Run `drift-wb --help`, or `drift-wb <command> --help`, to see the usage.';

/** Builds the `drift-wb` program; `run` executes each command's body and records its exit code. */
export function createProgram(run: CommandRunner, usageOutput: Output): Command {
  const program = new Command('drift-wb')
    .description('DRIFT Workbench on the command line: every workbench feature, headless.')
    .version(APP_VERSION, '-V, --version', 'print the version')
    .option('--workspace <dir>', 'workspace folder (also set by DRIFT_WB_WORKSPACE)', defaultWorkspaceDir())
    .option('--json', 'print one machine-readable JSON summary on stdout')
    .helpCommand(true)
    .exitOverride()
    .configureOutput({
      outputError: (message) =>
        usageOutput.error({
          code: 'invalid_arguments',
          message: message.replace(/^error:\s*/i, '').trim(),
          hint: USAGE_HINT,
        }),
    });
  registerServe(program, run);
  registerDemo(program, run);
  registerDoctor(program, run);
  registerSelftest(program, run);
  registerJobs(program, run);
  registerImport(program, run);
  registerModel(program, run);
  registerMine(program, run);
  registerPairs(program, run);
  registerEval(program, run);
  registerRun(program, run);
  registerExport(program, run);
  registerReport(program, run);
  return program;
}

/** Runs the CLI on `argv` (as in process.argv) and resolves with the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = EXIT_OK;
  const run: CommandRunner = async (command, body) => {
    const globals = readGlobalOptions(command);
    const output = new Output(globals.json);
    try {
      exitCode = await body({ globals, output });
    } catch (thrown) {
      output.error(errorOf(thrown));
      exitCode = thrown instanceof CommandError ? thrown.exitCode : EXIT_FAILURE;
    }
  };
  const program = createProgram(run, new Output(argv.includes('--json')));
  try {
    await program.parseAsync([...argv]);
  } catch (thrown) {
    if (!(thrown instanceof CommanderError)) throw thrown;
    // Help and version print and exit 0; anything else commander refuses is a usage error.
    return thrown.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  return exitCode;
}
