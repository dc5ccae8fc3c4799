/**
 * electron-builder.yml: valid against electron-builder's own schema, with the fuses and targets
 * the security checklist asks for (reference/reliability.md §2 item 19).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
// js-yaml and app-builder-lib come with electron-builder; neither ships types we depend on.
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };

interface BuilderConfig {
  appId: string;
  files: string[];
  asar: boolean;
  asarUnpack: string[];
  electronFuses: Record<string, boolean>;
  linux: { target: string[]; category: string; maintainer: string; icon: string };
  mac: { target: string; category: string; icon: string };
  win: { target: string; icon: string };
  directories: { output: string; buildResources: string };
}

const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8')) as BuilderConfig;

describe('electron-builder.yml', () => {
  it("passes electron-builder's configuration schema", async () => {
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, linux: { ...config.linux, notAnOption: true } }, new DebugLogger(false)),
    ).rejects.toThrow(/configuration/);
  });

  it('sets the security fuses', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      loadBrowserProcessSpecificV8Snapshot: false,
      // off: the renderer is served from app://bundle, not file:// (see the comment in the YAML)
      grantFileProtocolExtraPrivileges: false,
    });
  });

  it('packages the build output only, in an asar, with native and wasm files unpacked', () => {
    expect(config.appId).toBe('org.driftworkbench.app');
    expect(config.asar).toBe(true);
    expect(config.files).toEqual(expect.arrayContaining(['out/**', 'package.json', 'bin/**']));
    expect(config.files.filter((pattern) => /^(src|test|src-main|src-renderer)\b/.test(pattern))).toEqual([]);
    expect(config.asarUnpack).toEqual(
      expect.arrayContaining([
        'node_modules/@tensorflow/tfjs-node*/**',
        'node_modules/@tensorflow/tfjs-backend-wasm/**/*.wasm',
      ]),
    );
  });

  it('builds AppImage + deb, dmg and nsis with a 512×512 PNG icon', () => {
    expect(config.linux.target).toEqual(['AppImage', 'deb']);
    expect(config.linux.category).toBe('Development');
    expect(config.linux.maintainer).toMatch(/<[^@\s]+@[^>\s]+>/); // deb needs an e-mail address
    expect(config.mac).toMatchObject({ target: 'dmg', category: 'public.app-category.developer-tools' });
    expect(config.win.target).toBe('nsis');

    for (const icon of new Set([config.linux.icon, config.mac.icon, config.win.icon])) {
      const png = readFileSync(join(root, config.directories.buildResources, icon));
      expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
      expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    }
  });
});
