/**
 * Electron main entry (bundled to out/main/index.js). Hands the real Electron modules, the
 * engine and the built file paths to `startShell`; everything testable lives there.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session } from 'electron';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_NAME, APP_VERSION, defaultWorkspaceDir, openEngine, prepareDemoWorkspace } from '../engine/index.js';
import { startShell } from './lifecycle.js';

const mainDir = dirname(fileURLToPath(import.meta.url));

startShell({
  electron: { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session },
  openEngine,
  // The first start opens on the embedded demo: its logs, pair set and base model, ready to run.
  prepareFirstStart: (engine) => prepareDemoWorkspace(engine),
  defaultWorkspaceDir: () => defaultWorkspaceDir(),
  appName: APP_NAME,
  appVersion: APP_VERSION,
  argv: process.argv,
  env: process.env,
  platform: process.platform,
  paths: {
    preload: join(mainDir, '../preload/index.cjs'),
    rendererIndex: join(mainDir, '../renderer/index.html'),
    // Engine jobs run in worker threads from this bundle, so the main thread never blocks.
    worker: new URL('./job-worker.js', import.meta.url),
  },
});
