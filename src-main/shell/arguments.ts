/**
 * The shell's command-line options: `--workspace` picks the workspace folder.
 */

/**
 * The arguments for relaunching on another workspace: this run's arguments without any
 * `--workspace` option, plus `--workspace=<dir>`.
 */
export function relaunchArguments(argv: readonly string[], workspaceDir: string): string[] {
  const kept: string[] = [];
  const rest = argv.slice(1);
  for (let index = 0; index < rest.length; index++) {
    const argument = rest[index] as string;
    if (argument === '--workspace') {
      index++; // drop its value too
      continue;
    }
    if (argument.startsWith('--workspace=')) continue;
    kept.push(argument);
  }
  return [...kept, `--workspace=${workspaceDir}`];
}

/** Reads `--workspace=DIR` or `--workspace DIR` from the command line; the last one wins. */
export function workspaceArgument(argv: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const argument = argv[index] as string;
    if (argument.startsWith('--workspace=')) found = argument.slice('--workspace='.length) || found;
    else if (argument === '--workspace' && index + 1 < argv.length) found = argv[++index];
  }
  return found;
}
