import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import {
  catalogPath,
  datasetDir,
  modelDir,
  reportDir,
  resolveInside,
  runDir,
} from '../../../src-main/engine/workspace/index.js';

const root = path.resolve('/tmp/ws-root');

function failureCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof AppFailure ? error.code : `not an AppFailure: ${String(error)}`;
  }
  return undefined;
}

describe('workspace layout', () => {
  it('places the catalog and entry folders as ARCHITECTURE.md describes', () => {
    expect(catalogPath(root)).toBe(path.join(root, 'workbench.json'));
    expect(datasetDir(root, 'd1')).toBe(path.join(root, 'datasets', 'd1'));
    expect(modelDir(root, 'm1')).toBe(path.join(root, 'models', 'm1'));
    expect(runDir(root, 'r1')).toBe(path.join(root, 'runs', 'r1'));
    expect(reportDir(root, 'p1')).toBe(path.join(root, 'reports', 'p1'));
  });

  it('resolves paths that stay inside', () => {
    expect(resolveInside(root, 'runs', 'r1', 'metrics.jsonl')).toBe(path.join(root, 'runs', 'r1', 'metrics.jsonl'));
    expect(resolveInside(root, 'runs/r1/iter-2/pairs.jsonl')).toBe(
      path.join(root, 'runs', 'r1', 'iter-2', 'pairs.jsonl'),
    );
    expect(resolveInside(root, 'a..b')).toBe(path.join(root, 'a..b'));
    expect(resolveInside(root)).toBe(root);
  });

  it.each([
    ['..'],
    ['../outside'],
    ['runs/../../outside'],
    ['runs\\..\\..\\outside'],
    ['/etc/passwd'],
    ['C:\\Windows'],
    ['C:relative'],
    ['\\\\server\\share'],
    ['name\0.json'],
  ])('refuses %j with path_outside_workspace', (segment) => {
    expect(failureCode(() => resolveInside(root, 'runs', segment))).toBe('path_outside_workspace');
  });

  it('refuses an entry id that is not a single folder name', () => {
    expect(failureCode(() => datasetDir(root, 'a/b'))).toBe('path_outside_workspace');
    expect(failureCode(() => runDir(root, '..'))).toBe('path_outside_workspace');
    expect(failureCode(() => modelDir(root, ''))).toBe('path_outside_workspace');
    expect(failureCode(() => reportDir(root, '.'))).toBe('path_outside_workspace');
  });
});
