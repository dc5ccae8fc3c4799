/**
 * The application menu as a pure template, so a test can read it without Electron.
 */
import type { MenuItemConstructorOptions } from 'electron';

/** The DRIFT paper, the workbench's method reference; opened through `openExternalSafe`. */
export const DOCUMENTATION_URL = 'https://arxiv.org/abs/2510.02341';

export interface MenuOptions {
  appName: string;
  platform: NodeJS.Platform;
  /** Packaged builds have no reload or developer tools entries. */
  isPackaged: boolean;
  onOpenWorkspace: () => void;
  onOpenDocumentation: () => void;
}

/** Builds the menu: (macOS app menu), File, Edit, View, Window, Help. */
export function buildMenuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const isMac = options.platform === 'darwin';
  const separator: MenuItemConstructorOptions = { type: 'separator' };

  const appMenu: MenuItemConstructorOptions = {
    label: options.appName,
    submenu: [
      { role: 'about' },
      separator,
      { role: 'services' },
      separator,
      { role: 'hide' },
      { role: 'hideOthers' },
      { role: 'unhide' },
      separator,
      { role: 'quit' },
    ],
  };

  const fileMenu: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Workspace Folder…', accelerator: 'CmdOrCtrl+O', click: () => options.onOpenWorkspace() },
      separator,
      isMac ? { role: 'close' } : { role: 'quit' },
    ],
  };

  const editMenu: MenuItemConstructorOptions = {
    label: 'Edit',
    submenu: [
      { role: 'undo' },
      { role: 'redo' },
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      ...(isMac ? [{ role: 'pasteAndMatchStyle' } as const] : []),
      { role: 'delete' },
      separator,
      { role: 'selectAll' },
    ],
  };

  const developerItems: MenuItemConstructorOptions[] = options.isPackaged
    ? []
    : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, separator];
  const viewMenu: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...developerItems,
      { role: 'resetZoom' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      separator,
      { role: 'togglefullscreen' },
    ],
  };

  const windowMenu: MenuItemConstructorOptions = {
    label: 'Window',
    submenu: isMac
      ? [{ role: 'minimize' }, { role: 'zoom' }, separator, { role: 'front' }]
      : [{ role: 'minimize' }, { role: 'close' }],
  };

  const helpMenu: MenuItemConstructorOptions = {
    role: 'help',
    label: 'Help',
    submenu: [
      { label: 'The DRIFT Method (arXiv 2510.02341)', click: () => options.onOpenDocumentation() },
      // On macOS "About" lives in the app menu.
      ...(isMac ? [] : [separator, { role: 'about' } as const]),
    ],
  };

  return [...(isMac ? [appMenu] : []), fileMenu, editMenu, viewMenu, windowMenu, helpMenu];
}
