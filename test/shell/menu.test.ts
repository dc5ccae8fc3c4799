import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { relaunchArguments, workspaceArgument } from '../../src-main/shell/arguments.js';
import { buildMenuTemplate, DOCUMENTATION_URL, type MenuOptions } from '../../src-main/shell/menu.js';
import { externalUrlProblem } from '../../src-main/shell/security.js';

vi.mock('electron', () => ({ shell: { openExternal: vi.fn() } }));

function options(overrides: Partial<MenuOptions> = {}): MenuOptions {
  return {
    appName: 'DRIFT Workbench',
    platform: 'linux',
    isPackaged: true,
    onOpenWorkspace: vi.fn(),
    onOpenDocumentation: vi.fn(),
    ...overrides,
  };
}

function allItems(template: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? allItems(item.submenu) : [])]);
}

function roles(template: MenuItemConstructorOptions[]): string[] {
  return allItems(template).flatMap((item) => (item.role ? [item.role] : []));
}

function findByLabel(template: MenuItemConstructorOptions[], pattern: RegExp): MenuItemConstructorOptions {
  const found = allItems(template).find((item) => item.label !== undefined && pattern.test(item.label));
  if (!found) throw new Error(`no menu item matches ${pattern}`);
  return found;
}

describe('buildMenuTemplate', () => {
  it('has File, Edit, View, Window and Help, and no developer entries when packaged', () => {
    const template = buildMenuTemplate(options());
    expect(template.map((menu) => menu.label)).toEqual(['File', 'Edit', 'View', 'Window', 'Help']);
    expect(roles(template)).not.toContain('toggleDevTools');
    expect(roles(template)).not.toContain('reload');
    expect(roles(template)).not.toContain('forceReload');
    expect(roles(template)).toEqual(expect.arrayContaining(['quit', 'copy', 'paste', 'togglefullscreen', 'about']));
  });

  it('offers reload and developer tools in an unpackaged build', () => {
    expect(roles(buildMenuTemplate(options({ isPackaged: false })))).toEqual(
      expect.arrayContaining(['reload', 'forceReload', 'toggleDevTools']),
    );
  });

  it('puts the app menu first on macOS', () => {
    const template = buildMenuTemplate(options({ platform: 'darwin' }));
    expect(template.map((menu) => menu.label)).toEqual(['DRIFT Workbench', 'File', 'Edit', 'View', 'Window', 'Help']);
    expect(roles([template[0] as MenuItemConstructorOptions])).toEqual(expect.arrayContaining(['about', 'quit']));
  });

  it('wires Open Workspace Folder and the documentation link to their callbacks', () => {
    const menuOptions = options();
    const template = buildMenuTemplate(menuOptions);
    findByLabel(template, /^Open Workspace Folder/).click?.({} as never, undefined, {} as never);
    expect(menuOptions.onOpenWorkspace).toHaveBeenCalledOnce();
    findByLabel(template, /DRIFT Method/).click?.({} as never, undefined, {} as never);
    expect(menuOptions.onOpenDocumentation).toHaveBeenCalledOnce();
    expect(externalUrlProblem(DOCUMENTATION_URL)).toBeNull();
  });
});

describe('workspace arguments', () => {
  it('reads --workspace=DIR and --workspace DIR, the last one winning', () => {
    expect(workspaceArgument(['electron', '.', '--workspace=/data/ws'])).toBe('/data/ws');
    expect(workspaceArgument(['app', '--workspace', '/data/ws two'])).toBe('/data/ws two');
    expect(workspaceArgument(['app', '--workspace=/a', '--workspace', '/b'])).toBe('/b');
    expect(workspaceArgument(['app', '--workspace'])).toBeUndefined();
    expect(workspaceArgument(['app', '--workspace='])).toBeUndefined();
    expect(workspaceArgument(['app'])).toBeUndefined();
  });

  it('relaunches with the new workspace in place of the old one', () => {
    expect(
      relaunchArguments(['electron', '.', '--workspace', '/old', '--lang=de', '--workspace=/older'], '/new'),
    ).toEqual(['.', '--lang=de', '--workspace=/new']);
  });
});
