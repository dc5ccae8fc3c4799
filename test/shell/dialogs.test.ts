import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHANNELS, dispatch, type Handlers } from '../../src-main/api/index.js';
import { createHostHandlers, openDialogOptions } from '../../src-main/shell/dialogs.js';

const electron = vi.hoisted(() => ({
  dialog: { showOpenDialog: vi.fn() },
  shell: { openExternal: vi.fn(async (_url: string) => undefined) },
}));
vi.mock('electron', () => electron);

afterEach(() => {
  electron.dialog.showOpenDialog.mockReset();
  electron.shell.openExternal.mockClear();
});

/** The host handlers inside a full table, so requests go through dispatch's schema check. */
function withHostHandlers(getWindow: () => unknown): Handlers {
  const table: Record<string, unknown> = {};
  for (const channel of CHANNELS) table[channel] = async () => ({});
  return { ...table, ...createHostHandlers(getWindow as never) } as Handlers;
}

describe('dialog:open', () => {
  it('asks for folders, several when told, and ignores file filters for folders', () => {
    expect(
      openDialogOptions({ kind: 'folder', multiple: true, filters: [{ name: 'Logs', extensions: ['jsonl'] }] }),
    ).toEqual({ properties: ['openDirectory', 'createDirectory', 'multiSelections'] });
  });

  it('asks for one file with the title and filters of the request', () => {
    expect(
      openDialogOptions({
        kind: 'file',
        title: 'Import logs',
        filters: [{ name: 'Logs', extensions: ['jsonl', 'gz'] }],
      }),
    ).toEqual({
      properties: ['openFile'],
      title: 'Import logs',
      filters: [{ name: 'Logs', extensions: ['jsonl', 'gz'] }],
    });
  });

  it('shows the dialog modal to the window and returns the chosen paths', async () => {
    const window = { id: 1 };
    electron.dialog.showOpenDialog.mockResolvedValue({
      canceled: false,
      filePaths: ['/data/a.jsonl', '/data/b.jsonl'],
    });
    const result = await dispatch(
      withHostHandlers(() => window),
      'dialog:open',
      { kind: 'file', multiple: true },
    );
    expect(result).toEqual({ ok: true, value: { canceled: false, paths: ['/data/a.jsonl', '/data/b.jsonl'] } });
    expect(electron.dialog.showOpenDialog).toHaveBeenCalledExactlyOnceWith(window, {
      properties: ['openFile', 'multiSelections'],
    });
  });

  it('reports a cancelled dialog with no paths, and works without a window', async () => {
    electron.dialog.showOpenDialog.mockResolvedValue({ canceled: true, filePaths: ['/ignored'] });
    const result = await dispatch(
      withHostHandlers(() => null),
      'dialog:open',
      { kind: 'folder' },
    );
    expect(result).toEqual({ ok: true, value: { canceled: true, paths: [] } });
    expect(electron.dialog.showOpenDialog).toHaveBeenCalledExactlyOnceWith({
      properties: ['openDirectory', 'createDirectory'],
    });
  });

  it('rejects a filter extension the schema does not allow before any dialog opens', async () => {
    const result = await dispatch(
      withHostHandlers(() => null),
      'dialog:open',
      {
        kind: 'file',
        filters: [{ name: 'x', extensions: ['../../etc'] }],
      },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'invalid_request' } });
    expect(electron.dialog.showOpenDialog).not.toHaveBeenCalled();
  });
});

describe('link:open', () => {
  it('opens an https link through openExternalSafe', async () => {
    const result = await dispatch(
      withHostHandlers(() => null),
      'link:open',
      { url: 'https://arxiv.org/abs/2510.02341' },
    );
    expect(result).toEqual({ ok: true, value: { opened: true } });
    expect(electron.shell.openExternal).toHaveBeenCalledExactlyOnceWith('https://arxiv.org/abs/2510.02341');
  });

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'http://example.com/'])(
    'answers url_not_allowed for %s and opens nothing',
    async (url) => {
      const result = await dispatch(
        withHostHandlers(() => null),
        'link:open',
        { url },
      );
      expect(result).toMatchObject({ ok: false, error: { code: 'url_not_allowed' } });
      expect(electron.shell.openExternal).not.toHaveBeenCalled();
    },
  );
});
