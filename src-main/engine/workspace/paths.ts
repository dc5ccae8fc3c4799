/**
 * Where the workspace lives when the user does not say. The CLI, browser mode and the Electron
 * shell must agree, so this mirrors Electron's `app.getPath('userData')` for the product name
 * "DRIFT Workbench" without importing electron (the engine never does).
 */
import os from 'node:os';
import path from 'node:path';

/** The product name Electron derives userData from (electron-builder `productName`). */
export const PRODUCT_NAME = 'DRIFT Workbench';

/** Environment variable that overrides the default workspace folder. */
export const WORKSPACE_ENV = 'DRIFT_WB_WORKSPACE';

/**
 * The default workspace folder: `<userData>/workspace`, where userData is what Electron's
 * `app.getPath('userData')` returns for {@link PRODUCT_NAME} (Electron `app.getPath` docs:
 * appData is `%APPDATA%` on Windows, `$XDG_CONFIG_HOME` or `~/.config` on Linux,
 * `~/Library/Application Support` on macOS). `DRIFT_WB_WORKSPACE`, when set, wins.
 */
export function defaultWorkspaceDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  home: string = os.homedir(),
): string {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  const override = env[WORKSPACE_ENV];
  if (override) return paths.resolve(override);
  return paths.join(appDataDir(platform, env, home), PRODUCT_NAME, 'workspace');
}

function appDataDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'win32') return env['APPDATA'] || path.win32.join(home, 'AppData', 'Roaming');
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support');
  // Chromium's base::nix::GetXDGDirectory: the variable if set and non-empty, else ~/.config.
  return env['XDG_CONFIG_HOME'] || path.posix.join(home, '.config');
}
