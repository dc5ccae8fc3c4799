/**
 * report:pdf in the desktop app: the engine's handler prints with the shell's printer, a hidden
 * BrowserWindow (mocked: Electron's binary cannot run here) whose printToPDF returns the bytes.
 * The report is built by a real `report.build` job on a fixture workspace.
 */
import { access, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dispatch, type Handlers, type ReportEntry } from '../../src-main/api/index.js';
import { openEngine, type Engine } from '../../src-main/engine/index.js';
import {
  createElectronPrinter,
  PRINT_OPTIONS,
  PRINT_PARTITION,
  PRINT_WEB_PREFERENCES,
} from '../../src-main/shell/report-pdf.js';
import { createFixtureWorkspace } from '../engine/report/fixtures.js';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn() }, dialog: { showOpenDialog: vi.fn() } }));

const PDF = Buffer.from('%PDF-1.7\n% a printed report\n%%EOF\n');

type RequestFilter = (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void;

class FakeSession {
  filter: RequestFilter | null = null;
  setPermissionRequestHandler = vi.fn();
  setPermissionCheckHandler = vi.fn();
  setDevicePermissionHandler = vi.fn();
  webRequest = { onBeforeRequest: vi.fn((filter: RequestFilter) => void (this.filter = filter)) };

  /** Whether the session lets a request for `url` through. */
  allows(url: string): boolean {
    let cancel = true;
    this.filter?.({ url }, (response) => (cancel = response.cancel));
    return !cancel;
  }
}

class FakePrintWindow {
  static instances: FakePrintWindow[] = [];
  static session = new FakeSession();
  static printed: (bytes: Buffer) => Buffer | Promise<Buffer> = () => PDF;
  destroyed = false;
  loadedHtml: string | null = null;
  /** What the session answered for the page itself and for a remote request, while the page was open. */
  pageAllowed: boolean | null = null;
  remoteAllowed: boolean | null = null;
  webContents = {
    session: FakePrintWindow.session,
    printToPDF: vi.fn(async (_options: unknown) => FakePrintWindow.printed(PDF)),
  };
  loadFile = vi.fn(async (file: string) => {
    this.loadedHtml = await readFile(file, 'utf8');
    const url = pathToFileURL(file).href;
    this.pageAllowed = FakePrintWindow.session.allows(url);
    this.remoteAllowed = FakePrintWindow.session.allows('https://example.com/tracker.png');
  });
  destroy = vi.fn(() => void (this.destroyed = true));
  isDestroyed = () => this.destroyed;
  constructor(readonly options: { show?: boolean; webPreferences?: Record<string, unknown> }) {
    FakePrintWindow.instances.push(this);
  }
}

let engine: Engine | undefined;
let workspaceDir: string | undefined;

afterEach(async () => {
  await engine?.close();
  engine = undefined;
  if (workspaceDir) await rm(workspaceDir, { recursive: true, force: true });
  workspaceDir = undefined;
  FakePrintWindow.instances = [];
  FakePrintWindow.session = new FakeSession();
  FakePrintWindow.printed = () => PDF;
});

async function builtReport(): Promise<Handlers> {
  const workspace = await createFixtureWorkspace();
  workspaceDir = workspace.dir;
  engine = await openEngine({
    workspaceDir: workspace.dir,
    host: 'electron',
    printToPdf: createElectronPrinter(FakePrintWindow as never),
  });
  const job = await engine.runJob('report.build', { runIds: ['run-a'], formats: ['html', 'md'], id: 'weekly' });
  expect(job.error).toBeUndefined();
  return {
    ...engine.handlers,
    'dialog:open': async () => ({ canceled: true, paths: [] }),
    'link:open': async () => ({ opened: false }),
  };
}

describe('report:pdf with the Electron printer', () => {
  it('prints report.html in a locked-down hidden window, writes report.pdf and adds pdf to the entry', async () => {
    const handlers = await builtReport();
    const changed: string[] = [];
    engine!.on('catalog:changed', ({ section }) => changed.push(section));

    const result = await dispatch(handlers, 'report:pdf', { id: 'weekly' }, { validateResponses: true });

    if (!result.ok) throw new Error(result.error.message);
    const { entry, file } = result.value as { entry: ReportEntry; file: string };
    expect(file).toBe(path.join(workspaceDir!, 'reports', 'weekly', 'report.pdf'));
    expect(await readFile(file)).toEqual(PDF);
    expect(entry.formats).toEqual(['html', 'pdf', 'md']);
    expect(entry.files).toContain('report.pdf');
    expect(changed).toContain('reports');
    const listed = await dispatch(handlers, 'report:list', {});
    expect(listed).toMatchObject({ ok: true, value: [{ id: 'weekly', formats: ['html', 'pdf', 'md'] }] });

    // One hidden window, secure, printed the report itself and is gone again.
    expect(FakePrintWindow.instances).toHaveLength(1);
    const [window] = FakePrintWindow.instances;
    expect(window!.options.show).toBe(false);
    expect(window!.options.webPreferences).toMatchObject({
      partition: PRINT_PARTITION,
      javascript: false,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    });
    expect(window!.options.webPreferences).not.toHaveProperty('preload');
    expect(window!.options.webPreferences!['partition']).not.toMatch(/^persist:/);
    expect(window!.loadedHtml).toBe(
      await readFile(path.join(workspaceDir!, 'reports', 'weekly', 'report.html'), 'utf8'),
    );
    expect(window!.webContents.printToPDF).toHaveBeenCalledExactlyOnceWith(PRINT_OPTIONS);
    expect(window!.destroy).toHaveBeenCalledOnce();

    // Only the page being printed may load; everything else is cancelled, during and after.
    expect(window!.pageAllowed).toBe(true);
    expect(window!.remoteAllowed).toBe(false);
    const session = FakePrintWindow.session;
    const printedUrl = pathToFileURL(window!.loadFile.mock.calls[0]![0]).href;
    expect(session.allows(printedUrl)).toBe(false);
    expect(session.setPermissionRequestHandler).toHaveBeenCalled();
    // The temporary copy of the page is removed.
    await expect(access(fileURLToPath(printedUrl))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('destroys the window and keeps the entry as it was when printing fails', async () => {
    const handlers = await builtReport();
    FakePrintWindow.printed = () => {
      throw new Error('the GPU process crashed');
    };

    const result = await dispatch(handlers, 'report:pdf', { id: 'weekly' });

    expect(result).toMatchObject({ ok: false, error: { message: expect.stringContaining('GPU process crashed') } });
    expect(FakePrintWindow.instances[0]!.destroy).toHaveBeenCalledOnce();
    await expect(access(path.join(workspaceDir!, 'reports', 'weekly', 'report.pdf'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await dispatch(handlers, 'report:list', {})).toMatchObject({
      ok: true,
      value: [{ id: 'weekly', formats: ['html', 'md'] }],
    });
  });

  it('refuses bytes that are not a PDF, and an unknown report', async () => {
    const handlers = await builtReport();
    FakePrintWindow.printed = () => Buffer.from('<html>not a pdf</html>');
    expect(await dispatch(handlers, 'report:pdf', { id: 'weekly' })).toMatchObject({
      ok: false,
      error: { code: 'report_pdf_unavailable' },
    });
    expect(await dispatch(handlers, 'report:pdf', { id: 'missing' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    expect(FakePrintWindow.instances.every((window) => window.destroyed)).toBe(true);
  });

  it('locks every security-relevant preference', () => {
    expect(PRINT_WEB_PREFERENCES).toMatchObject({
      javascript: false,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });
});
