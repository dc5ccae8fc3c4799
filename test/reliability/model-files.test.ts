/**
 * Hostile model files (issue 11; reliability.md §4 and §7 item 19, after safetensors' own fuzz
 * target `SafeTensors::deserialize(data)`): safetensors bytes, tokenizer.json and
 * tokenizer_config.json, and whole model folders (config.json + weights + tokenizer) as
 * `model:inspect` reads them. Each is either accepted, and then usable without surprises, or
 * refused with its AppFailure code; nothing else may be thrown.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../src-main/api/index.js';
import { parseSafetensors, serializeSafetensors } from '../../src-main/engine/model/safetensors.js';
import { inspectModelFolder } from '../../src-main/engine/model/store.js';
import { loadTokenizer, trainByteLevelBpe } from '../../src-main/engine/text/index.js';
import { TINY_GPT2 } from '../engine/model/helpers.js';
import { makeTempDir, propertyOptions, prototypePolluted, removeTempDirs } from './helpers.js';
import { mutatedJson } from './json-mutation.js';

afterAll(removeTempDirs);

/** Runs `action`; an AppFailure must carry one of `codes`, anything else thrown fails the property. */
async function acceptedOr<T>(codes: string[], action: () => T | Promise<T>): Promise<T | null> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof AppFailure && codes.includes(error.code)) return null;
    throw error;
  } finally {
    expect(prototypePolluted()).toBe(false);
  }
}

describe('safetensors', () => {
  const valid = serializeSafetensors(
    [
      { name: 'a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'b.weight', shape: [4], data: Float32Array.from([0.5, -1, 2, 3]), dtype: 'F16' },
      { name: 'c', shape: [], data: Float32Array.from([7]), dtype: 'BF16' },
    ],
    { format: 'pt' },
  );
  const headerLength = Number(new DataView(valid.buffer, valid.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLength))) as object;
  const data = valid.subarray(8 + headerLength);

  /** A file from a header text and a data section, with the true or a forged length prefix. */
  function assemble(headerText: string, body: Uint8Array, forged?: bigint): Uint8Array {
    const headerBytes = new TextEncoder().encode(headerText);
    const bytes = new Uint8Array(8 + headerBytes.length + body.length);
    new DataView(bytes.buffer).setBigUint64(0, forged ?? BigInt(headerBytes.length), true);
    bytes.set(headerBytes, 8);
    bytes.set(body, 8 + headerBytes.length);
    return bytes;
  }

  const flips = fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 });
  const files = fc.oneof(
    fc.uint8Array({ maxLength: 256 }),
    flips.map((edits) => {
      const bytes = Uint8Array.from(valid);
      for (const { at, byte } of edits) bytes[at % bytes.length] = byte;
      return bytes;
    }),
    fc.nat(valid.length).map((length) => valid.slice(0, length)),
    fc
      .tuple(mutatedJson(header), fc.nat(64))
      .map(([text, extra]) => assemble(text, data.slice(0, data.length + extra - 32))),
    fc
      .tuple(fc.constantFrom(0n, 2n ** 63n, 2n ** 64n - 1n, 100_000_001n, BigInt(headerLength - 1)), fc.constant(0))
      .map(([forged]) => assemble(JSON.stringify(header), data, forged)),
  );

  it('parses arbitrary and mutated bytes into a valid index or refuses them as safetensors_invalid', async () => {
    await fc.assert(
      fc.asyncProperty(files, async (bytes) => {
        const file = await acceptedOr(['safetensors_invalid'], () => parseSafetensors(bytes, 'fuzz.safetensors'));
        if (file === null) return;
        // Accepted: every tensor lies inside the file and float tensors decode to shape-many values.
        for (const [name, entry] of file.tensors) {
          const count = entry.shape.reduce((product, dim) => product * dim, 1);
          const values = await acceptedOr(['safetensors_invalid'], () => file.readFloat32(name));
          if (values !== null) expect(values.length).toBe(count);
        }
      }),
      propertyOptions(400),
    );
  });
});

describe('tokenizer files', () => {
  let valid: { tokenizer: object; config: object };
  beforeAll(() => {
    const trained = trainByteLevelBpe(['hello world, hello there', 'the quick brown fox'], { vocabSize: 280 });
    valid = trained.toJSON() as { tokenizer: object; config: object };
  });

  async function folderWith(files: Record<string, string>): Promise<string> {
    const folder = await makeTempDir('drift-tokenizer-');
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(folder, name), text);
    return folder;
  }

  it('loads mutated tokenizer.json and tokenizer_config.json into a working tokenizer or refuses them', async () => {
    const files = fc.oneof(
      mutatedJson(valid.tokenizer).map((text) => ({
        'tokenizer.json': text,
        'tokenizer_config.json': JSON.stringify(valid.config),
      })),
      mutatedJson(valid.config).map((text) => ({
        'tokenizer.json': JSON.stringify(valid.tokenizer),
        'tokenizer_config.json': text,
      })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((text) => ({ 'tokenizer.json': text })),
      fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.string({ maxLength: 200 })).map(([vocab, merges]) => ({
        'vocab.json': JSON.stringify(vocab),
        'merges.txt': merges,
      })),
    );
    await fc.assert(
      fc.asyncProperty(files, async (contents) => {
        const folder = await folderWith(contents);
        const tokenizer = await acceptedOr(['tokenizer_invalid', 'chat_template_invalid'], () => loadTokenizer(folder));
        if (tokenizer === null) return;
        // Accepted: it encodes and decodes text, including characters outside its vocabulary.
        const text = 'hello 🎉 wörld\n\t<|im_end|>';
        const ids = await acceptedOr(['tokenizer_invalid'], () => tokenizer.encode(text));
        if (ids !== null) {
          expect(ids.every((id) => Number.isInteger(id) && id >= 0)).toBe(true);
          await acceptedOr(['tokenizer_invalid'], () => tokenizer.decode(ids));
        }
      }),
      propertyOptions(150),
    );
  });
});

describe('model folders (model:inspect)', () => {
  it('inspects a folder with a mutated config.json or weights file, or refuses it with a model code', async () => {
    const config = JSON.parse(await readFile(path.join(TINY_GPT2, 'config.json'), 'utf8')) as object;
    const weights = new Uint8Array(await readFile(path.join(TINY_GPT2, 'model.safetensors')));
    const folders = fc.oneof(
      mutatedJson(config).map((text) => ({ config: text, weights })),
      fc
        .array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 })
        .map((edits) => {
          const bytes = Uint8Array.from(weights);
          // Aim at the header, where a flipped byte changes a shape, dtype or offset.
          for (const { at, byte } of edits) bytes[at % 600] = byte;
          return { config: JSON.stringify(config), weights: bytes };
        }),
    );
    const codes = [
      'model_config_invalid',
      'model_unsupported_architecture',
      'model_folder_invalid',
      'model_weights_mismatch',
      'safetensors_invalid',
      'tokenizer_invalid',
    ];
    await fc.assert(
      fc.asyncProperty(folders, async (contents) => {
        const folder = await makeTempDir('drift-model-');
        await writeFile(path.join(folder, 'config.json'), contents.config);
        await writeFile(path.join(folder, 'model.safetensors'), contents.weights);
        const inspected = await acceptedOr(codes, () => inspectModelFolder(folder));
        if (inspected !== null) {
          expect(inspected.summary.parameters).toBeGreaterThanOrEqual(0);
          expect(() => JSON.stringify(inspected)).not.toThrow();
        }
      }),
      propertyOptions(120),
    );
  });

  it('refuses a model folder whose files are symlinks or directories in place of files', async () => {
    const folder = await makeTempDir('drift-model-');
    await mkdir(path.join(folder, 'model.safetensors'));
    await copyFile(path.join(TINY_GPT2, 'config.json'), path.join(folder, 'config.json'));
    await expect(inspectModelFolder(folder)).rejects.toBeInstanceOf(AppFailure);
  });
});
