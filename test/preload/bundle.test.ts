/**
 * A sandboxed preload may `require` only `electron` and a few built-ins, and cannot be ESM
 * (reference/reliability.md §2). These tests check the bundle, not just the source.
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rolldown } from 'rolldown';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const preloadSource = join(root, 'src-main', 'preload', 'index.ts');
const builtPreload = join(root, 'out', 'preload', 'index.cjs');

/** Module specifiers that survive compilation (type-only imports are erased). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    if (!statement.moduleSpecifier || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) continue;
    if (ts.isExportDeclaration(statement) && statement.isTypeOnly) continue;
    specifiers.push(statement.moduleSpecifier.text);
  }
  return specifiers;
}

function requiredModules(code: string): string[] {
  return [...code.matchAll(/\brequire\(\s*(['"`])([^'"`]*)\1\s*\)/g)].map((match) => match[2] as string);
}

describe('preload bundle', () => {
  it('imports at run time only electron and the name list, which itself imports nothing', () => {
    expect(runtimeImports(preloadSource).sort()).toEqual(['../api/names.js', 'electron']);
    expect(runtimeImports(join(root, 'src-main', 'api', 'names.ts'))).toEqual([]);
  });

  it('bundles to CommonJS that requires nothing but electron', async () => {
    // Externalise what electron-vite externalises (electron, built-ins, package dependencies), so
    // an accidental `import { z } from 'zod'` shows up here as require("zod").
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    const dependencies = Object.keys(manifest.dependencies ?? {});
    const isExternal = (id: string): boolean =>
      id === 'electron' ||
      id.startsWith('node:') ||
      builtinModules.includes(id) ||
      dependencies.some((name) => id === name || id.startsWith(`${name}/`));
    const bundle = await rolldown({
      input: preloadSource,
      platform: 'node',
      external: isExternal,
      resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
      logLevel: 'silent',
    });
    const { output } = await bundle.generate({ format: 'cjs' });
    await bundle.close();
    expect(output).toHaveLength(1); // one file: a sandboxed preload cannot load chunks
    const code = output[0].code;
    expect(requiredModules(code)).toEqual(['electron']);
    expect(code).not.toMatch(/^\s*import\s/m);
    expect(code).toContain('exposeInMainWorld("workbench"');
  });

  it.skipIf(!existsSync(builtPreload))(
    'the electron-vite build output requires nothing but electron (skipped until `npm run build` has run)',
    () => {
      const code = readFileSync(builtPreload, 'utf8');
      expect(requiredModules(code)).toEqual(['electron']);
      expect(code).not.toMatch(/^\s*import\s/m);
    },
  );
});
