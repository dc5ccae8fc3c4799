/**
 * The desktop app's life: single-instance lock, security policy, engine, IPC, window, menu and
 * an orderly shutdown. Electron's modules and the engine come in as parameters, so a test can
 * drive the whole start-up with fakes; index.ts passes the real ones.
 */
import type { App, BrowserWindow, Dialog, IpcMain, Menu, OpenDialogOptions, Protocol, Session } from 'electron';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { toAppError, type Handlers } from '../api/index.js';
import type { Engine, EngineOptions } from '../engine/index.js';
import { relaunchArguments, workspaceArgument } from './arguments.js';
import { createHostHandlers } from './dialogs.js';
import { forwardEvents, registerIpcHandlers } from './ipc.js';
import { buildMenuTemplate, DOCUMENTATION_URL } from './menu.js';
import { APP_SCHEME, createBundleHandler, PRIVILEGED_SCHEMES } from './protocol.js';
import { createElectronPrinter } from './report-pdf.js';
import {
  hardenWebContents,
  installSessionPolicy,
  openExternalSafe,
  resolveRendererLocation,
  secureWindowOptions,
  type RendererLocation,
} from './security.js';

/** The parts of the `electron` module the shell uses. */
export interface ElectronModules {
  app: App;
  BrowserWindow: typeof BrowserWindow;
  Menu: typeof Menu;
  dialog: Dialog;
  ipcMain: IpcMain;
  protocol: Pick<Protocol, 'registerSchemesAsPrivileged'>;
  session: { readonly defaultSession: Session };
}

export interface ShellOptions {
  electron: ElectronModules;
  openEngine: (options: EngineOptions) => Engine | Promise<Engine>;
  defaultWorkspaceDir: () => string;
  appName: string;
  appVersion: string;
  argv: readonly string[];
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /**
   * Fills a brand-new default workspace with the embedded demo (its logs, pair set and base model),
   * so the app opens on something real the first time it starts. Runs after the window is shown;
   * its jobs show in the jobs panel. Not called for a --workspace folder or an existing workspace.
   */
  prepareFirstStart?: (engine: Engine) => Promise<unknown>;
  /** Built files: the preload bundle, the renderer's index.html and the job worker entry. */
  paths: { preload: string; rendererIndex: string; worker: URL };
}

export interface ShellHandle {
  readonly workspaceDir: string;
  readonly renderer: RendererLocation;
  /** Settles once the engine is open and the first window exists (or start-up failed). */
  readonly ready: Promise<void>;
}

/**
 * Starts the desktop app. Returns null, after asking the app to quit, when another instance
 * already holds the single-instance lock (that instance is focused instead).
 */
export function startShell(options: ShellOptions): ShellHandle | null {
  const { app, BrowserWindow, Menu, dialog, ipcMain, protocol, session } = options.electron;

  // Sandbox every renderer, including any created without our window options.
  app.enableSandbox();
  // Custom schemes get their privileges only if registered before the app is ready.
  protocol.registerSchemesAsPrivileged(PRIVILEGED_SCHEMES);

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  const explicitWorkspace = workspaceArgument(options.argv);
  const workspaceDir = resolve(explicitWorkspace ?? options.defaultWorkspaceDir());
  // The first start of the app: the default workspace has no catalog yet.
  const firstStart = explicitWorkspace === undefined && !existsSync(join(workspaceDir, 'workbench.json'));
  const renderer = resolveRendererLocation({
    isPackaged: app.isPackaged,
    devServerUrl: options.env['ELECTRON_RENDERER_URL'],
    indexPath: options.paths.rendererIndex,
  });
  let engine: Engine | null = null;
  let window: BrowserWindow | null = null;
  let closing: Promise<void> | null = null;

  const showWindow = (target: BrowserWindow): void => {
    if (target.isMinimized()) target.restore();
    target.show();
    target.focus();
  };

  const createWindow = (openEngine: Engine): BrowserWindow => {
    const created = new BrowserWindow(
      secureWindowOptions({
        width: 1320,
        height: 860,
        minWidth: 960,
        minHeight: 600,
        show: false,
        backgroundColor: '#0f172a',
        title: options.appName,
        webPreferences: { preload: options.paths.preload },
      }),
    );
    window = created;
    created.once('ready-to-show', () => created.show());
    const stopForwarding = forwardEvents(openEngine, created.webContents);
    created.on('closed', () => {
      stopForwarding();
      if (window === created) window = null;
    });
    const loading = renderer.kind === 'file' ? created.loadFile(renderer.indexPath) : created.loadURL(renderer.url);
    loading.catch((thrown: unknown) => console.error('[shell] the renderer failed to load:', thrown));
    return created;
  };

  const chooseWorkspace = async (): Promise<void> => {
    const dialogOptions: OpenDialogOptions = {
      title: 'Open Workspace Folder',
      defaultPath: workspaceDir,
      properties: ['openDirectory', 'createDirectory'],
    };
    const result = window
      ? await dialog.showOpenDialog(window, dialogOptions)
      : await dialog.showOpenDialog(dialogOptions);
    const chosen = result.filePaths[0];
    if (result.canceled || !chosen || resolve(chosen) === workspaceDir) return;
    // The engine holds the workspace lock for the life of the process, so switching is a relaunch.
    app.relaunch({ args: relaunchArguments(options.argv, resolve(chosen)) });
    app.quit();
  };

  app.on('second-instance', () => {
    if (window) showWindow(window);
    else if (engine) createWindow(engine);
  });
  app.on('web-contents-created', (_event, contents) => hardenWebContents(contents, renderer));
  app.on('window-all-closed', () => {
    if (options.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (engine && BrowserWindow.getAllWindows().length === 0) createWindow(engine);
  });
  app.on('before-quit', (event) => {
    if (!engine) return;
    // Hold the quit until running jobs are cancelled and the catalog is flushed and unlocked.
    event.preventDefault();
    if (closing) return;
    closing = engine
      .close()
      .catch((thrown: unknown) => console.error('[shell] closing the engine failed:', thrown))
      .finally(() => {
        engine = null;
        app.quit();
      });
  });

  const ready = app
    .whenReady()
    .then(async () => {
      installSessionPolicy(session.defaultSession);
      if (renderer.kind === 'bundle') {
        session.defaultSession.protocol.handle(APP_SCHEME, createBundleHandler(renderer.rendererDir));
      }
      app.setAboutPanelOptions({ applicationName: options.appName, applicationVersion: options.appVersion });
      const opened = await options.openEngine({
        workspaceDir,
        host: 'electron',
        workerUrl: options.paths.worker,
        // Workers cannot print in Electron; report:pdf prints in a hidden window of this process.
        printToPdf: createElectronPrinter(BrowserWindow),
      });
      engine = opened;
      const handlers: Handlers = { ...opened.handlers, ...createHostHandlers(() => window) };
      registerIpcHandlers(ipcMain, handlers, renderer, { validateResponses: !app.isPackaged });
      const template = buildMenuTemplate({
        appName: options.appName,
        platform: options.platform,
        isPackaged: app.isPackaged,
        onOpenWorkspace: () => {
          chooseWorkspace().catch((thrown: unknown) => console.error('[shell] opening a workspace failed:', thrown));
        },
        onOpenDocumentation: () => {
          openExternalSafe(DOCUMENTATION_URL).catch((thrown: unknown) =>
            console.error('[shell] opening the documentation failed:', thrown),
          );
        },
      });
      Menu.setApplicationMenu(Menu.buildFromTemplate(template));
      createWindow(opened);
      if (firstStart && options.prepareFirstStart) {
        options
          .prepareFirstStart(opened)
          .catch((thrown: unknown) => console.error('[shell] preparing the demo workspace failed:', thrown));
      }
    })
    .catch((thrown: unknown) => {
      console.error('[shell] start-up failed:', thrown);
      const error = toAppError(thrown);
      dialog.showErrorBox(
        `${options.appName} could not start`,
        [...new Set([error.message, error.hint, `Workspace: ${workspaceDir}`])].filter(Boolean).join('\n\n'),
      );
      app.quit();
    });

  return { workspaceDir, renderer, ready };
}
