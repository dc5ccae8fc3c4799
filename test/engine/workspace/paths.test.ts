import { describe, expect, it } from 'vitest';
import { defaultWorkspaceDir } from '../../../src-main/engine/workspace/index.js';

describe('defaultWorkspaceDir', () => {
  it('follows Electron userData on Linux: XDG_CONFIG_HOME, else ~/.config', () => {
    expect(defaultWorkspaceDir('linux', {}, '/home/ann')).toBe('/home/ann/.config/DRIFT Workbench/workspace');
    expect(defaultWorkspaceDir('linux', { XDG_CONFIG_HOME: '/cfg' }, '/home/ann')).toBe(
      '/cfg/DRIFT Workbench/workspace',
    );
    expect(defaultWorkspaceDir('linux', { XDG_CONFIG_HOME: '' }, '/home/ann')).toBe(
      '/home/ann/.config/DRIFT Workbench/workspace',
    );
  });

  it('uses Application Support on macOS', () => {
    expect(defaultWorkspaceDir('darwin', { XDG_CONFIG_HOME: '/ignored' }, '/Users/ann')).toBe(
      '/Users/ann/Library/Application Support/DRIFT Workbench/workspace',
    );
  });

  it('uses %APPDATA% with backslashes on Windows', () => {
    expect(defaultWorkspaceDir('win32', { APPDATA: 'C:\\Users\\ann\\AppData\\Roaming' }, 'C:\\Users\\ann')).toBe(
      'C:\\Users\\ann\\AppData\\Roaming\\DRIFT Workbench\\workspace',
    );
    expect(defaultWorkspaceDir('win32', {}, 'C:\\Users\\bob')).toBe(
      'C:\\Users\\bob\\AppData\\Roaming\\DRIFT Workbench\\workspace',
    );
  });

  it('lets DRIFT_WB_WORKSPACE override every platform', () => {
    expect(defaultWorkspaceDir('linux', { DRIFT_WB_WORKSPACE: '/data/ws', XDG_CONFIG_HOME: '/cfg' }, '/h')).toBe(
      '/data/ws',
    );
    expect(defaultWorkspaceDir('win32', { DRIFT_WB_WORKSPACE: 'D:\\ws', APPDATA: 'C:\\a' }, 'C:\\h')).toBe('D:\\ws');
  });
});
