/**
 * Hostile workspace files (issue 11; reliability.md §3 and §4): workbench.json and its backup,
 * and run folders' checkpoints (manifest.json, `latest`, step folders, staging leftovers, files
 * whose bytes no longer match). The catalog must always open (repairing what it can) or refuse
 * with its AppFailure code and leave the file alone; a checkpoint search never throws and never
 * returns a checkpoint whose files do not match its manifest; loading one throws only AppFailures.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src-main/api/index.js';
import { createModel } from '../../src-main/engine/model/model.js';
import { trainByteLevelBpe } from '../../src-main/engine/text/index.js';
import {
  LATEST_FILE,
  MANIFEST_FILE,
  cleanStaleStaging,
  findLatestCheckpoint,
  loadCheckpoint,
  saveCheckpoint,
  stepFolderName,
  verifyCheckpoint,
} from '../../src-main/engine/train/checkpoint.js';
import { OPTIMIZER_DEFAULTS } from '../../src-main/engine/compute/optimizers.js';
import { openEngine } from '../../src-main/engine/index.js';
import { Catalog, CatalogSchema, defaultCatalog } from '../../src-main/engine/workspace/index.js';
import { useBackend } from '../engine/model/helpers.js';
import { tinyConfig } from '../engine/train/helpers.js';
import { makeTempDir, propertyOptions, prototypePolluted, removeTempDirs } from './helpers.js';
import { mutatedJson } from './json-mutation.js';

afterAll(removeTempDirs);

const CATALOG_CODES = ['catalog_newer_version', 'workspace_unreadable', 'catalog_invalid'];

describe('workbench.json', () => {
  const good = {
    ...defaultCatalog(),
    datasets: [
      {
        id: 'kept',
        name: 'Kept',
        format: 'jsonl',
        createdAt: '2025-01-01T00:00:00.000Z',
        conversations: 3,
        sourceFiles: ['a.jsonl'],
      },
    ],
  };
  const goodText = JSON.stringify(good);
  const content = fc.oneof(
    mutatedJson(good),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
    fc.constantFrom(
      '',
      '\uFEFF' + goodText,
      'null',
      '[]',
      '{"schemaVersion":999}',
      goodText.slice(0, -1),
      '{"__proto__":{"polluted":1}}',
    ),
  );

  it('opens whatever workbench.json and its backup hold, or refuses with a catalog code and changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(content, fc.option(content, { nil: undefined }), async (main, backup) => {
        const dir = await makeTempDir('drift-catalog-');
        await writeFile(path.join(dir, 'workbench.json'), main);
        if (backup !== undefined) await writeFile(path.join(dir, 'workbench.json.bak'), backup);
        let catalog: Catalog;
        try {
          catalog = await Catalog.open(dir);
        } catch (error) {
          if (!(error instanceof AppFailure) || !CATALOG_CODES.includes(error.code)) throw error;
          // A refusal leaves the file exactly as it was.
          expect(await readFile(path.join(dir, 'workbench.json'), 'utf8')).toBe(main);
          return;
        }
        try {
          expect(prototypePolluted()).toBe(false);
          expect(CatalogSchema.safeParse(catalog.data).success).toBe(true);
          // The repaired catalog takes a write, and a reopen sees exactly that.
          await catalog.update((draft) => {
            draft.datasets = draft.datasets.filter((entry) => entry.id !== 'added');
            draft.datasets.push({ ...good.datasets[0]!, id: 'added' });
          });
          const written = catalog.data;
          await catalog.close();
          const reopened = await Catalog.open(dir);
          expect(reopened.data).toEqual(written);
          expect(reopened.warnings.filter((warning) => !/lock/i.test(warning))).toEqual([]);
          await reopened.close();
        } finally {
          await catalog.close();
        }
      }),
      propertyOptions(80),
    );
  });
});

describe('checkpoint folders', () => {
  let template: string;
  let config: ReturnType<typeof tinyConfig>;

  beforeAll(async () => {
    await useBackend('cpu');
    const tokenizer = trainByteLevelBpe(['hello world, hello there'], { vocabSize: 270 });
    config = tinyConfig(tokenizer.vocabSize, 1);
    const model = createModel(config, { seed: 3 });
    const slots = new Map([['m.weight', { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }]]);
    template = path.join(await makeTempDir('drift-checkpoints-'), 'checkpoints');
    for (const step of [1, 2]) {
      await saveCheckpoint(template, {
        step,
        model,
        tokenizer,
        optimizer: { config: OPTIMIZER_DEFAULTS.adamw, step, slots },
        trainerState: { trainer: { step } },
      });
    }
    model.dispose();
  }, 60_000);

  type Damage =
    | { kind: 'manifest'; step: number; text: string }
    | { kind: 'latest'; text: string }
    | { kind: 'flip'; step: number; file: number; at: number }
    /** Corrupts a file and rewrites the manifest to match: a crafted checkpoint that verifies. */
    | { kind: 'forged'; step: number; file: number; text: string }
    | { kind: 'junk'; name: string };

  const damage = (manifest: object): fc.Arbitrary<Damage> =>
    fc.oneof(
      fc.record({ kind: fc.constant('manifest' as const), step: fc.constantFrom(1, 2), text: mutatedJson(manifest) }),
      fc.record({
        kind: fc.constant('latest' as const),
        text: fc.oneof(
          fc.constantFrom('step-000000001', 'step-000000009', '../../etc', 'step-1', '', '\u0000', stepFolderName(2)),
          fc.string({ maxLength: 30 }),
        ),
      }),
      fc.record({ kind: fc.constant('flip' as const), step: fc.constantFrom(1, 2), file: fc.nat(), at: fc.nat() }),
      fc.record({
        kind: fc.constant('forged' as const),
        step: fc.constantFrom(1, 2),
        file: fc.nat(),
        text: fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{', '[]', 'null', '{"a":1}')),
      }),
      fc.record({
        kind: fc.constant('junk' as const),
        name: fc.constantFrom(
          'step-999999999',
          '.staging-step-000000003-aa',
          '.retired-step-000000001-bb',
          'step-000000003.tmp',
        ),
      }),
    );

  const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

  async function apply(folder: string, change: Damage): Promise<void> {
    if (change.kind === 'latest') return writeFile(path.join(folder, LATEST_FILE), change.text);
    if (change.kind === 'junk') {
      await mkdir(path.join(folder, change.name), { recursive: true });
      return;
    }
    const step = path.join(folder, stepFolderName(change.step));
    if (change.kind === 'manifest') return writeFile(path.join(step, MANIFEST_FILE), change.text);
    const files = (await readdir(step)).filter((name) => name !== MANIFEST_FILE).sort();
    const file = files[change.file % files.length]!;
    if (change.kind === 'flip') {
      const bytes = await readFile(path.join(step, file));
      const index = change.at % bytes.length;
      bytes[index] = (bytes[index]! ^ 0x5a) & 0xff;
      return writeFile(path.join(step, file), bytes);
    }
    await writeFile(path.join(step, file), change.text);
    const manifestFile = path.join(step, MANIFEST_FILE);
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as {
      files: Record<string, { bytes: number; sha256: string }>;
    };
    manifest.files[file] = { bytes: Buffer.byteLength(change.text), sha256: sha256(change.text) };
    await writeFile(manifestFile, JSON.stringify(manifest));
  }

  it('finds only checkpoints that match their manifest, and loads them or refuses with an AppFailure', async () => {
    const manifest = JSON.parse(
      await readFile(path.join(template, stepFolderName(2), MANIFEST_FILE), 'utf8'),
    ) as object;
    let loaded = 0;
    let refused = 0;
    const refusals = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(damage(manifest), { minLength: 1, maxLength: 3 }), async (changes) => {
        const folder = path.join(await makeTempDir('drift-checkpoints-'), 'checkpoints');
        await cp(template, folder, { recursive: true });
        for (const change of changes) await apply(folder, change);

        const search = await findLatestCheckpoint(folder);
        const found = search.checkpoint;
        if (found !== null) {
          expect(path.basename(found.folder)).toMatch(/^step-\d{9}$/);
          expect(typeof (await verifyCheckpoint(found.folder))).toBe('object');
          try {
            const checkpoint = await loadCheckpoint(found, config);
            checkpoint.model.dispose();
            loaded++;
          } catch (error) {
            if (!(error instanceof AppFailure)) throw error;
            refusals.add(error.code);
            refused++;
          }
        }
        // Leftovers of interrupted saves go; complete step folders stay.
        await cleanStaleStaging(folder);
        const left = await readdir(folder);
        expect(left.filter((name) => name.startsWith('.'))).toEqual([]);
        expect(left).toContain(stepFolderName(1));
      }),
      propertyOptions(60),
    );
    console.info(`checkpoint fuzz: ${loaded} loaded, ${refused} refused (${[...refusals].join(', ')})`);
    expect(loaded).toBeGreaterThan(0);
  }, 60_000);
});

describe('SFT run folders', () => {
  it('refuses to resume a run whose run.json is damaged with checkpoint_invalid, not a crash', async () => {
    const workspace = await makeTempDir('drift-runs-');
    const data = path.join(workspace, 'chat.jsonl');
    await writeFile(data, '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}\n');
    const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
    try {
      for (const [index, text] of ['', '{"formatVersion":1,', 'null', '[]', '{"__proto__":{"polluted":1}}'].entries()) {
        const runId = `damaged-${index}`;
        await mkdir(path.join(workspace, 'runs', runId), { recursive: true });
        await writeFile(path.join(workspace, 'runs', runId, 'run.json'), text);
        const job = await engine.runJob('model.train-sft', { preset: 'tiny', files: [data], runId, resume: true });
        expect(job.status, text).toBe('failed');
        expect(job.error?.code, text).toBe('checkpoint_invalid');
      }
    } finally {
      await engine.close();
    }
  }, 60_000);
});
