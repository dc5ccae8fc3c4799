/**
 * `drift-wb doctor`: what this machine and workspace give the workbench. Shows the tfjs backend
 * the engine picks and, for each better one, why it was not taken; the workspace and its
 * warnings; whether the UI is built; whether a Chromium for the browser tests is present.
 */
import type { Command } from 'commander';
import { accessSync, constants, existsSync } from 'node:fs';
import path from 'node:path';
import { type AppError, type BackendInfo, type Result, type WorkspaceInfo } from '../../api/index.js';
import { APP_NAME, APP_VERSION } from '../../engine/index.js';
import { call, defaultStaticDir, withEngine, type CommandContext, type CommandRunner } from '../context.js';
import { errorOf, EXIT_FAILURE, EXIT_OK } from '../output.js';

/** Where the browser tests look for Chromium when CHROMIUM_PATH is not set. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

export interface DoctorReport {
  /** False when the workspace or the backend could not be checked. */
  ok: boolean;
  app: { name: string; version: string };
  node: { version: string; platform: NodeJS.Platform; arch: string };
  workspace: Result<WorkspaceInfo> & { path: string };
  backend: Result<BackendInfo>;
  renderer: { path: string; built: boolean };
  chromium: { path: string | null; checked: string[] };
}

export function registerDoctor(program: Command, run: CommandRunner): void {
  program
    .command('doctor')
    .description('show the compute backend (and why better ones were not taken), the workspace and the tools found')
    .action((_options: unknown, command: Command) => run(command, doctor));
}

async function doctor({ globals, output }: CommandContext): Promise<number> {
  let workspace: Result<WorkspaceInfo>;
  let backend: Result<BackendInfo>;
  try {
    [workspace, backend] = await withEngine(globals, 'cli', async (_engine, handlers) => [
      await settle(call(handlers, 'workspace:info', {})),
      await settle(call(handlers, 'backend:info', {})),
    ]);
  } catch (thrown) {
    // The workspace could not be opened (locked, unreadable): report that and carry on.
    const error = errorOf(thrown);
    workspace = { ok: false, error };
    backend = { ok: false, error: { ...error, message: `Not checked: ${error.message}` } };
  }
  const rendererPath = defaultStaticDir();
  const report: DoctorReport = {
    ok: workspace.ok && backend.ok,
    app: { name: APP_NAME, version: APP_VERSION },
    node: { version: process.version, platform: process.platform, arch: process.arch },
    workspace: { path: globals.workspace, ...workspace },
    backend,
    renderer: { path: rendererPath, built: existsSync(path.join(rendererPath, 'index.html')) },
    chromium: findChromium(),
  };
  output.result(report, describeReport(report));
  return report.ok ? EXIT_OK : EXIT_FAILURE;
}

async function settle<T>(promise: Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (thrown) {
    return { ok: false, error: errorOf(thrown) };
  }
}

function findChromium(): DoctorReport['chromium'] {
  const fromEnvironment = process.env['CHROMIUM_PATH'];
  const checked = [...(fromEnvironment ? [fromEnvironment] : []), DEFAULT_CHROMIUM_PATH];
  const found = checked.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  return { path: found ?? null, checked };
}

function describeReport(report: DoctorReport): string[] {
  const lines = [
    `${report.app.name} ${report.app.version}`,
    `Node       ${report.node.version} (${report.node.platform}-${report.node.arch})`,
    `Workspace  ${report.workspace.path}`,
  ];
  if (report.workspace.ok) {
    const { schemaVersion, counts, warnings } = report.workspace.value;
    lines.push(
      `           schema ${schemaVersion}; ${counts.datasets} datasets, ${counts.models} models, ` +
        `${counts.runs} runs, ${counts.reports} reports, ${counts.jobs} jobs`,
    );
    for (const warning of warnings) lines.push(`           warning: ${warning}`);
  } else {
    lines.push(...describeFailure(report.workspace.error));
  }
  if (report.backend.ok) {
    const backend = report.backend.value;
    lines.push(
      `Backend    ${backend.name} (tfjs ${backend.tfjsVersion}, ${backend.threads} ` +
        `${backend.threads === 1 ? 'thread' : 'threads'}, ` +
        `${backend.gpu ? 'GPU' : 'no GPU'})`,
    );
    const width = Math.max(...backend.attempts.map((attempt) => attempt.name.length));
    for (const attempt of backend.attempts) {
      const mark = attempt.chosen ? '*' : '-';
      lines.push(`           ${mark} ${attempt.name.padEnd(width)}  ${attempt.package}: ${attempt.reason}`);
    }
    if (backend.shims.length > 0) lines.push(`           kernels added by the workbench: ${backend.shims.join(', ')}`);
  } else {
    lines.push('Backend    not available', ...describeFailure(report.backend.error));
  }
  lines.push(
    report.renderer.built
      ? `UI build   ${report.renderer.path}`
      : `UI build   missing at ${report.renderer.path} (run \`npm run build\` before \`drift-wb serve\`)`,
    report.chromium.path
      ? `Chromium   ${report.chromium.path}`
      : `Chromium   not found (checked ${report.chromium.checked.join(', ')}; set CHROMIUM_PATH for the browser tests)`,
  );
  return lines;
}

function describeFailure(error: AppError): string[] {
  const lines = [`           error [${error.code}]: ${error.message}`];
  if (error.hint) lines.push(`           hint: ${error.hint}`);
  return lines;
}
