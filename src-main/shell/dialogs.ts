/**
 * The channels the desktop host serves itself: the native open dialog and opening a link in
 * the system browser. Requests arrive already validated by `dispatch`.
 */
import { dialog } from 'electron';
import type { BrowserWindow, OpenDialogOptions } from 'electron';
import type { HostHandlers, ParsedRequestOf } from '../api/index.js';
import { openExternalSafe } from './security.js';

/** Translates a `dialog:open` request into Electron's dialog options. */
export function openDialogOptions(request: ParsedRequestOf<'dialog:open'>): OpenDialogOptions {
  const properties: NonNullable<OpenDialogOptions['properties']> =
    request.kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile'];
  if (request.multiple) properties.push('multiSelections');
  const options: OpenDialogOptions = { properties };
  if (request.title !== undefined) options.title = request.title;
  if (request.kind === 'file' && request.filters) options.filters = request.filters;
  return options;
}

/**
 * Handlers for `dialog:open` and `link:open`. `getWindow` names the window a dialog is modal
 * to; with none open the dialog is free-standing.
 */
export function createHostHandlers(getWindow: () => BrowserWindow | null): HostHandlers {
  return {
    'dialog:open': async (request) => {
      const options = openDialogOptions(request);
      const window = getWindow();
      const result = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
      return { canceled: result.canceled, paths: result.canceled ? [] : result.filePaths };
    },
    'link:open': async (request) => {
      await openExternalSafe(request.url);
      return { opened: true };
    },
  };
}
