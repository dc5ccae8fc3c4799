import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** A committed tokenizer fixture (MIT): gpt2 (vocab.json + merges.txt) or phi-2 (tokenizer.json). */
export function fixtureTokenizerFolder(name: 'gpt2' | 'phi-2'): string {
  return path.join(repositoryRoot, 'test/fixtures/tokenizers', name);
}

/**
 * A tokenizer read from ../shared/realmodels (beside the repository), never copied into it: the
 * Llama-2 tokenizer falls under the Llama 2 Community License.
 */
export function sharedTokenizerFolder(name: 'llama2'): string {
  return path.resolve(repositoryRoot, '../shared/realmodels/tokenizers', name);
}

/** Why a test that needs a shared tokenizer is skipped, or null when the files are there. */
export function skipReason(name: 'llama2'): string | null {
  const folder = sharedTokenizerFolder(name);
  return existsSync(path.join(folder, 'tokenizer.json'))
    ? null
    : `(skipped: ${folder} is missing; the Llama-2 tokenizer is licensed separately and not committed)`;
}

const temporaryFolders: string[] = [];

export async function makeTempDir(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'drift-text-'));
  temporaryFolders.push(folder);
  return folder;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(temporaryFolders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
}
