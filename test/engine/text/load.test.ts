import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import { loadTokenizer, trainByteLevelBpe } from '../../../src-main/engine/text/index.js';
import { fixtureTokenizerFolder, makeTempDir, removeTempDirs } from './helpers.js';

afterEach(removeTempDirs);

async function loadFailure(folder: string): Promise<AppFailure> {
  try {
    await loadTokenizer(folder);
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected loadTokenizer to fail');
}

/** A small valid tokenizer folder to break in various ways. */
async function trainedFolder(): Promise<string> {
  const folder = await makeTempDir();
  await trainByteLevelBpe(['hello world, hello there'], { vocabSize: 270 }).save(folder);
  return folder;
}

async function editJson(file: string, edit: (value: Record<string, unknown>) => void): Promise<void> {
  const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  edit(value);
  await writeFile(file, JSON.stringify(value));
}

describe('loadTokenizer errors (tokenizer_invalid, naming the file and the problem)', () => {
  it('reports a folder with no tokenizer files', async () => {
    const folder = await makeTempDir();
    const failure = await loadFailure(folder);
    expect(failure.code).toBe('tokenizer_invalid');
    expect(failure.message).toContain(folder);
    expect(failure.message).toContain('no tokenizer.json');
  });

  it('reports a tokenizer.json that is not JSON', async () => {
    const folder = await makeTempDir();
    await writeFile(path.join(folder, 'tokenizer.json'), '{"model": ');
    const failure = await loadFailure(folder);
    expect(failure.code).toBe('tokenizer_invalid');
    expect(failure.message).toMatch(/tokenizer\.json .*is not valid JSON/);
  });

  it('reports an unsupported model type', async () => {
    const folder = await trainedFolder();
    await editJson(path.join(folder, 'tokenizer.json'), (json) => {
      json['model'] = { type: 'Unigram', vocab: [['a', 0]] };
    });
    expect((await loadFailure(folder)).message).toContain('model type "Unigram" is not supported');
  });

  it('reports a malformed vocabulary with the path of the bad field', async () => {
    const folder = await trainedFolder();
    await editJson(path.join(folder, 'tokenizer.json'), (json) => {
      (json['model'] as { vocab: Record<string, unknown> }).vocab['hello'] = 'one';
    });
    const failure = await loadFailure(folder);
    expect(failure.message).toContain('tokenizer.json');
    expect(failure.message).toContain('model.vocab.hello');
  });

  it('reports a special token of tokenizer_config.json that is not in the vocabulary', async () => {
    const folder = await trainedFolder();
    await editJson(path.join(folder, 'tokenizer_config.json'), (config) => {
      config['eos_token'] = '<|missing|>';
    });
    const failure = await loadFailure(folder);
    expect(failure.code).toBe('tokenizer_invalid');
    expect(failure.message).toContain('eos_token "<|missing|>" is not in the vocabulary');
  });

  it('reports a bad line of merges.txt by number', async () => {
    const folder = await makeTempDir();
    await copyFile(path.join(fixtureTokenizerFolder('gpt2'), 'vocab.json'), path.join(folder, 'vocab.json'));
    await writeFile(path.join(folder, 'merges.txt'), '#version: 0.2\nĠ t\nĠ a extra\n');
    const failure = await loadFailure(folder);
    expect(failure.message).toContain('merges.txt');
    expect(failure.message).toContain('line 3');
  });
});

describe('loadTokenizer configuration files', () => {
  it('lets special_tokens_map.json and chat_template.jinja override tokenizer_config.json, as transformers does', async () => {
    const folder = await trainedFolder();
    await writeFile(path.join(folder, 'special_tokens_map.json'), JSON.stringify({ eos_token: '<|endoftext|>' }));
    await writeFile(path.join(folder, 'chat_template.jinja'), '{{ messages[0].content }}');
    const tokenizer = await loadTokenizer(folder);
    expect(tokenizer.specialTokens.eos).toEqual({ id: 0, content: '<|endoftext|>' });
    expect(tokenizer.chatTemplate).toBe('{{ messages[0].content }}');
    expect(tokenizer.chatFormat).toMatchObject({ eosToken: '<|endoftext|>', bosToken: null });
  });

  it('reads a transformers AddedToken object and a list of named chat templates', async () => {
    const folder = await trainedFolder();
    await editJson(path.join(folder, 'tokenizer_config.json'), (config) => {
      config['eos_token'] = { __type: 'AddedToken', content: '<|im_end|>', normalized: false };
      config['chat_template'] = [
        { name: 'tool_use', template: 'tools' },
        { name: 'default', template: 'plain' },
      ];
    });
    const tokenizer = await loadTokenizer(folder);
    expect(tokenizer.specialTokens.eos).toEqual({ id: 2, content: '<|im_end|>' });
    expect(tokenizer.chatTemplate).toBe('plain');
  });

  it('adds the BOS token when tokenizer_config.json sets add_bos_token', async () => {
    const folder = await trainedFolder();
    await editJson(path.join(folder, 'tokenizer_config.json'), (config) => {
      config['bos_token'] = '<|im_start|>';
      config['add_bos_token'] = true;
    });
    const tokenizer = await loadTokenizer(folder);
    const ids = tokenizer.encode('hello');
    expect(ids[0]).toBe(1);
    expect(tokenizer.encode('hello', { addSpecialTokens: false })).toEqual(ids.slice(1));
  });

  it('drops ids beyond the vocabulary when decoding, as HF tokenizers does', async () => {
    const tokenizer = await loadTokenizer(await trainedFolder());
    const ids = tokenizer.encode('hello');
    expect(tokenizer.decode([...ids, tokenizer.vocabSize + 5])).toBe('hello');
    expect(tokenizer.decode([])).toBe('');
  });

  it('creates the target folder on save', async () => {
    const tokenizer = await loadTokenizer(await trainedFolder());
    const target = path.join(await makeTempDir(), 'nested', 'model');
    await tokenizer.save(target);
    expect((await loadTokenizer(target)).encode('hello there')).toEqual(tokenizer.encode('hello there'));
  });
});
