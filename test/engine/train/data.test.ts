import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import {
  fingerprintExamples,
  padBatch,
  readSftRecords,
  shardBatch,
  tokenizeConversation,
  tokenizeRecords,
  trainingChatFormat,
} from '../../../src-main/engine/train/data.js';
import { arithmeticRecords, removeTempFolders, tempFolder, tokenizerFor } from './helpers.js';

afterAll(removeTempFolders);

/** The runs of consecutive ids whose mask is `value`, decoded. */
function runs(ids: number[], mask: number[], value: number, decode: (ids: number[]) => string): string[] {
  const pieces: string[] = [];
  let current: number[] = [];
  ids.forEach((id, index) => {
    if (mask[index] === value) current.push(id);
    else if (current.length > 0) {
      pieces.push(decode(current));
      current = [];
    }
  });
  if (current.length > 0) pieces.push(decode(current));
  return pieces;
}

describe('tokenizeConversation', () => {
  const records = arithmeticRecords(12);
  const tokenizer = tokenizerFor(records);
  const decode = (ids: number[]) => tokenizer.decode(ids);

  it('puts the loss on assistant tokens only: each assistant turn with its end-of-turn token', () => {
    const messages = [
      { role: 'system', content: 'You add numbers.' },
      { role: 'user', content: 'What is 1 plus 2?' },
      { role: 'assistant', content: '1 plus 2 is 3.' },
      { role: 'user', content: 'And doubled?' },
      { role: 'assistant', content: 'Doubled it is 6.' },
    ];
    const example = tokenizeConversation(messages, tokenizer, trainingChatFormat(tokenizer));
    expect(example).not.toBeNull();
    const { ids, lossMask } = example!;
    expect(lossMask).toHaveLength(ids.length);
    expect(runs(ids, lossMask, 1, decode)).toEqual(['1 plus 2 is 3.<|im_end|>', 'Doubled it is 6.<|im_end|>']);
    expect(runs(ids, lossMask, 0, decode)).toEqual([
      '<|im_start|>system\nYou add numbers.<|im_end|>\n<|im_start|>user\nWhat is 1 plus 2?<|im_end|>\n<|im_start|>assistant\n',
      '\n<|im_start|>user\nAnd doubled?<|im_end|>\n<|im_start|>assistant\n',
    ]);
    // The pieces together are the whole rendered conversation.
    expect(decode(ids)).toBe(
      '<|im_start|>system\nYou add numbers.<|im_end|>\n<|im_start|>user\nWhat is 1 plus 2?<|im_end|>\n' +
        '<|im_start|>assistant\n1 plus 2 is 3.<|im_end|>\n<|im_start|>user\nAnd doubled?<|im_end|>\n' +
        '<|im_start|>assistant\nDoubled it is 6.<|im_end|>',
    );
  });

  it('leaves assistant turns with weight 0 out of the loss: they are context', () => {
    const messages = [
      { role: 'user', content: 'What is 1 plus 2?' },
      { role: 'assistant', content: '1 plus 2 is 4.', weight: 0 as const },
      { role: 'user', content: 'That is wrong.' },
      { role: 'assistant', content: '1 plus 2 is 3.' },
    ];
    const example = tokenizeConversation(messages, tokenizer, trainingChatFormat(tokenizer));
    expect(runs(example!.ids, example!.lossMask, 1, decode)).toEqual(['1 plus 2 is 3.<|im_end|>']);
    // Only weight-0 turns: nothing to train on, so the record is skipped.
    const { stats } = tokenizeRecords([{ messages: messages.slice(0, 2) }], tokenizer, 1000);
    expect(stats).toMatchObject({ examples: 0, skipped: 1 });
  });

  it('skips conversations without an assistant turn, cuts long ones, and trains prompt/completion pairs', () => {
    const { examples, stats } = tokenizeRecords(
      [
        { messages: [{ role: 'user', content: 'hello' }] },
        records[1]!,
        { prompt: 'What is 2 plus 2? ', completion: '4' },
      ],
      tokenizer,
      1000,
    );
    expect(stats).toMatchObject({ records: 3, examples: 2, skipped: 1, truncated: 0 });
    const pair = examples[1]!;
    expect(runs(pair.ids, pair.lossMask, 1, decode)).toEqual(['4<|im_end|>']);
    const full = tokenizeRecords([records[1]!], tokenizer, 1000).examples[0]!;
    const firstLoss = full.lossMask.indexOf(1);
    const cut = tokenizeRecords([records[1]!], tokenizer, firstLoss + 2);
    expect(cut.stats.truncated).toBe(1);
    expect(cut.examples[0]?.ids).toEqual(full.ids.slice(0, firstLoss + 2));
    expect(cut.examples[0]?.lossMask).toEqual(full.lossMask.slice(0, firstLoss + 2));
    // Cut before any assistant token: nothing to learn, so skipped.
    expect(tokenizeRecords([records[1]!], tokenizer, firstLoss).stats).toMatchObject({ examples: 0, skipped: 1 });
  });

  it('fingerprints the tokens: same data, same print; any change, another', () => {
    const first = tokenizeRecords(records, tokenizer, 128).examples;
    expect(fingerprintExamples(tokenizeRecords(records, tokenizer, 128).examples)).toBe(fingerprintExamples(first));
    expect(fingerprintExamples(tokenizeRecords(records.slice(1), tokenizer, 128).examples)).not.toBe(
      fingerprintExamples(first),
    );
  });
});

describe('padBatch and shardBatch', () => {
  const examples = [
    { ids: [5, 6, 7, 8], lossMask: [0, 0, 1, 1] },
    { ids: [9, 10], lossMask: [0, 1] },
    { ids: [11, 12, 13], lossMask: [0, 1, 1] },
  ];

  it('shifts targets by one, pads on the right, and masks padding out of attention and loss', () => {
    const batch = padBatch(examples.slice(0, 2), 0);
    expect(batch.rows).toBe(2);
    expect(batch.length).toBe(3);
    expect([...batch.inputIds]).toEqual([5, 6, 7, 9, 0, 0]);
    expect([...batch.targets]).toEqual([6, 7, 8, 10, 0, 0]);
    expect([...batch.attentionMask]).toEqual([1, 1, 1, 1, 0, 0]);
    expect([...batch.lossMask]).toEqual([0, 1, 1, 1, 0, 0]);
    expect(batch.tokens).toBe(4);
    expect(batch.lossTokens).toBe(3);
  });

  it('splits a micro-batch into contiguous shards, each padded to its own length', () => {
    const shards = shardBatch(examples, 2);
    expect(shards.map((shard) => shard.rows)).toEqual([2, 1]);
    expect(shards.map((shard) => shard.length)).toEqual([3, 2]);
    expect(shards.reduce((sum, shard) => sum + shard.lossTokens, 0)).toBe(padBatch(examples).lossTokens);
    expect(shardBatch(examples.slice(0, 1), 4)).toHaveLength(1);
  });
});

describe('readSftRecords', () => {
  it('reads messages and prompt/completion lines, and names the file and line of a bad one', async () => {
    const folder = await tempFolder();
    const good = path.join(folder, 'good.jsonl');
    await writeFile(
      good,
      `${JSON.stringify({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      })}\n` + `${JSON.stringify({ prompt: 'a', completion: 'b' })}\n`,
    );
    expect(await readSftRecords({ files: [good] })).toEqual([
      {
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      },
      { prompt: 'a', completion: 'b' },
    ]);
    const bad = path.join(folder, 'bad.jsonl');
    await writeFile(bad, `${JSON.stringify({ prompt: 'a', completion: 'b' })}\n{"text": "no"}\n`);
    const failure = await readSftRecords({ files: [bad] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AppFailure);
    expect((failure as AppFailure).code).toBe('training_data_invalid');
    expect((failure as AppFailure).message).toContain(`${bad}:2`);
  });

  it('keeps OpenAI-style message weights (0: context only) and refuses any other weight', async () => {
    const folder = await tempFolder();
    const weighted = path.join(folder, 'weighted.jsonl');
    const messages = [
      { role: 'user', content: 'What is 1 + 2?' },
      { role: 'assistant', content: '4', weight: 0 },
      { role: 'user', content: 'No, try again.' },
      { role: 'assistant', content: '3', weight: 1 },
    ];
    await writeFile(weighted, `${JSON.stringify({ messages })}\n`);
    const records = await readSftRecords({ files: [weighted] });
    expect(records).toEqual([{ messages }]);
    // The weight reaches the loss mask: only the second answer is trained on.
    const tokenizer = tokenizerFor(arithmeticRecords());
    const { examples } = tokenizeRecords(records, tokenizer, 256);
    const trained = runs(examples[0]!.ids, examples[0]!.lossMask, 1, (ids) => tokenizer.decode(ids));
    expect(trained.join('')).toContain('3');
    expect(trained.join('')).not.toContain('4');

    const bad = path.join(folder, 'bad-weight.jsonl');
    await writeFile(bad, `${JSON.stringify({ messages: [{ role: 'assistant', content: 'x', weight: 0.5 }] })}\n`);
    const failure = (await readSftRecords({ files: [bad] }).catch((error: unknown) => error)) as AppFailure;
    expect(failure.code).toBe('training_data_invalid');
    expect(failure.message).toBe(
      `${bad}:1: messages[0].weight is 0.5; a message's weight must be 0 (context only) or 1 (trained on).`,
    );
  });
});
