/**
 * Trained classifiers on disk: `<workspace>/classifiers/<id>/config.json` (what it is, how it was
 * trained, held-out accuracy) and `weights.bin` (W then b, float32 little-endian, checked by
 * sha256 on load).
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppFailure, ClassifierInfo } from '../../../api/index.js';
import { errorCode } from '../../workspace/atomic.js';
import { resolveInside, writeFileAtomic } from '../../workspace/index.js';
import { FEATURE_VERSION } from './features.js';
import type { ClassifierWeights } from './model.js';
import { OUTPUT_COUNT, OUTPUTS } from './outputs.js';

export const CLASSIFIERS_FOLDER = 'classifiers';

const StoredConfig = ClassifierInfo.extend({
  featureVersion: z.number().int(),
  outputs: z.array(z.string()),
  weightsSha256: z.string(),
});
type StoredConfig = z.infer<typeof StoredConfig>;

export interface LoadedClassifier {
  info: ClassifierInfo;
  model: ClassifierWeights;
}

/** `<workspace>/classifiers/<id>`. */
export function classifierDir(workspaceDir: string, id: string): string {
  return resolveInside(workspaceDir, CLASSIFIERS_FOLDER, id);
}

function weightsBytes(model: ClassifierWeights): Buffer {
  const all = new Float32Array(model.weights.length + model.bias.length);
  all.set(model.weights, 0);
  all.set(model.bias, model.weights.length);
  const bytes = Buffer.alloc(all.length * 4);
  for (let index = 0; index < all.length; index++) bytes.writeFloatLE(all[index] ?? 0, index * 4);
  return bytes;
}

/** Writes a classifier (weights first, then the config that points to them). */
export async function saveClassifier(
  workspaceDir: string,
  info: ClassifierInfo,
  model: ClassifierWeights,
): Promise<void> {
  const folder = classifierDir(workspaceDir, info.id);
  await mkdir(folder, { recursive: true });
  const bytes = weightsBytes(model);
  await writeFileAtomic(path.join(folder, 'weights.bin'), bytes);
  const config: StoredConfig = {
    ...info,
    featureVersion: FEATURE_VERSION,
    outputs: [...OUTPUTS],
    weightsSha256: createHash('sha256').update(bytes).digest('hex'),
  };
  await writeFileAtomic(path.join(folder, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

async function readConfig(folder: string, id: string): Promise<StoredConfig> {
  let text: string;
  try {
    text = await readFile(path.join(folder, 'config.json'), 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') throw new AppFailure('not_found', `No classifier "${id}" in this workspace.`);
    throw error;
  }
  const parsed = StoredConfig.safeParse(JSON.parse(text));
  if (!parsed.success) throw new AppFailure('not_found', `Classifier "${id}" has an unreadable config.json.`);
  return parsed.data;
}

/** Loads a classifier and checks its weights against the recorded size and checksum. */
export async function loadClassifier(workspaceDir: string, id: string): Promise<LoadedClassifier> {
  const folder = classifierDir(workspaceDir, id);
  const config = await readConfig(folder, id);
  if (config.featureVersion !== FEATURE_VERSION || config.outputs.join() !== OUTPUTS.join()) {
    throw new AppFailure(
      'not_found',
      `Classifier "${id}" was trained by another version of the workbench (features v${config.featureVersion}); train it again.`,
    );
  }
  const bytes = await readFile(path.join(folder, 'weights.bin'));
  const expected = (config.buckets * OUTPUT_COUNT + OUTPUT_COUNT) * 4;
  const checksum = createHash('sha256').update(bytes).digest('hex');
  if (bytes.length !== expected || checksum !== config.weightsSha256) {
    throw new AppFailure('not_found', `Classifier "${id}" has damaged weights (size or checksum mismatch).`);
  }
  const all = new Float32Array(bytes.length / 4);
  for (let index = 0; index < all.length; index++) all[index] = bytes.readFloatLE(index * 4);
  const { featureVersion: _version, outputs: _outputs, weightsSha256: _sha, ...info } = config;
  return {
    info,
    model: {
      buckets: config.buckets,
      weights: all.subarray(0, config.buckets * OUTPUT_COUNT),
      bias: all.subarray(config.buckets * OUTPUT_COUNT),
    },
  };
}

/** Every readable classifier of the workspace, newest first. */
export async function listClassifiers(workspaceDir: string): Promise<ClassifierInfo[]> {
  let names: string[];
  try {
    names = await readdir(path.join(workspaceDir, CLASSIFIERS_FOLDER));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const found: ClassifierInfo[] = [];
  for (const name of names) {
    try {
      const {
        featureVersion: _version,
        outputs: _outputs,
        weightsSha256: _sha,
        ...info
      } = await readConfig(classifierDir(workspaceDir, name), name);
      found.push(info);
    } catch {
      // A folder without a readable config is not a classifier.
    }
  }
  return found.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}
