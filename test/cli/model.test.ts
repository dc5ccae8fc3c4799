/** `drift-wb model …` as a user runs it: child processes on bin/drift-wb.js. */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onlyDocument, root, runCli as runInWorkspace, type Finished } from './helpers.js';

const tinyLlama = join(root, 'test', 'fixtures', 'models', 'ferrl-tiny-llama');

let workspace: string;
let conversations: string;

beforeAll(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'drift-cli-model-'));
  conversations = join(workspace, 'conversations.jsonl');
  const lines = Array.from({ length: 16 }, (_, index) => {
    const [a, b] = [index + 2, (index * 3) % 7];
    return JSON.stringify({
      messages: [
        { role: 'user', content: `What is ${a} plus ${b}?` },
        { role: 'assistant', content: `${a} plus ${b} is ${a + b}.` },
      ],
    });
  });
  await writeFile(conversations, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(workspace, { recursive: true, force: true });
});

/** drift-wb on this test's workspace (training runs get more time than the default). */
function runCli(args: string[]): Promise<Finished> {
  return runInWorkspace(['--workspace', workspace, ...args], 120_000);
}

const TRAIN = ['model', 'train-sft', '--preset', 'tiny', '--lr', '3e-3', '--batch-size', '4', '--seed', '5'];

describe('drift-wb model', () => {
  it('imports an HF folder and describes it with info --json', async () => {
    const imported = await runCli(['model', 'import', tinyLlama, '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const entry = onlyDocument<{ id: string; architecture: string; parameters: number; tokenizer: unknown }>(
      imported.stdout,
    );
    expect(entry).toMatchObject({
      id: 'ferrl-tiny-llama',
      architecture: 'LlamaForCausalLM',
      origin: 'imported',
      dtype: 'float32',
      vocabSize: 32,
      contextLength: 64,
      layers: 2,
      hiddenSize: 32,
      tokenizer: null,
    });
    const info = await runCli(['model', 'info', 'ferrl-tiny-llama', '--json']);
    expect(info.code, info.stderr).toBe(0);
    const details = onlyDocument<{ entry: { parameters: number }; config: Record<string, unknown>; files: unknown[] }>(
      info.stdout,
    );
    expect(details.entry.parameters).toBe(entry.parameters);
    expect(details.config).toMatchObject({ model_type: 'llama', hidden_size: 32, num_hidden_layers: 2 });
    expect(details.files).toContainEqual({ name: 'model.safetensors', bytes: expect.any(Number) });
    // A folder works as well as an id, without importing it.
    const folder = await runCli(['model', 'info', tinyLlama, '--json']);
    expect(onlyDocument(folder.stdout)).toMatchObject({
      architecture: 'LlamaForCausalLM',
      parameters: entry.parameters,
    });
    // Generation needs a tokenizer, which this fixture does not have.
    const generated = await runCli(['model', 'generate', 'ferrl-tiny-llama', '--prompt', 'hi', '--json']);
    expect(generated.code).toBe(1);
    expect(onlyDocument(generated.stdout)).toMatchObject({ ok: false, error: { code: 'model_tokenizer_missing' } });
  });

  it('trains a tiny preset on conversations, then generates from it, streaming', async () => {
    const trained = await runCli([
      ...TRAIN,
      '--file',
      conversations,
      '--epochs',
      '12',
      '--name',
      'adder',
      '--checkpoint-every',
      '10',
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const result = onlyDocument<{
      modelId: string;
      steps: number;
      finalLoss: number;
      threads: number;
      runFolder: string;
    }>(trained.stdout);
    expect(result).toMatchObject({ modelId: 'adder', steps: 48, runId: 'adder' });
    const metrics = (await readFile(join(result.runFolder, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { step: number; loss: number; grad_norm: number; learning_rate: number });
    expect(metrics).toHaveLength(48);
    expect(metrics[0]).toMatchObject({ step: 1, grad_norm: expect.any(Number), learning_rate: expect.any(Number) });
    expect(result.finalLoss).toBeLessThan((metrics[0]?.loss ?? 0) * 0.6);

    const streamed = await runCli([
      'model',
      'generate',
      'adder',
      '--chat',
      '--prompt',
      'What is 3 plus 4?',
      '--temperature',
      '0',
    ]);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(streamed.stdout.trim().length).toBeGreaterThan(0);
    expect(streamed.stderr).toMatch(/tokens\/s/);
    const json = await runCli([
      'model',
      'generate',
      'adder',
      '--chat',
      '--prompt',
      'What is 3 plus 4?',
      '--prompt',
      'What is 10 plus 2?',
      '--temperature',
      '0',
      '--json',
    ]);
    const document = onlyDocument<{ completions: { text: string; finishReason: string }[] }>(json.stdout);
    expect(document.completions).toHaveLength(2);
    // Greedy is deterministic: the batched first row equals the streamed single prompt.
    expect(document.completions[0]?.text).toBe(streamed.stdout.trim());
  });

  it('resumes an interrupted run to the same final loss, and refuses another architecture', async () => {
    const args = [
      ...TRAIN,
      '--file',
      conversations,
      '--max-steps',
      '6',
      '--checkpoint-every',
      '2',
      '--name',
      'resumable',
    ];
    const first = onlyDocument<{ finalLoss: number; runFolder: string }>((await runCli([...args, '--json'])).stdout);
    // A crash after step 5: the step-6 checkpoint never completed, and a staging folder was left.
    const checkpoints = join(first.runFolder, 'checkpoints');
    await rm(join(checkpoints, 'step-000000006'), { recursive: true });
    await writeFile(join(checkpoints, 'latest'), 'step-000000006\n');
    await mkdir(join(checkpoints, '.staging-step-000000006-0badc0de'));
    const again = await runCli([...args, '--json']);
    expect(again.code).toBe(1);
    expect(onlyDocument(again.stdout)).toMatchObject({ ok: false, error: { code: 'run_exists' } });

    const resumed = await runCli([...args, '--resume', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const document = onlyDocument<{ finalLoss: number; resumedFrom: number; steps: number; modelId: string }>(
      resumed.stdout,
    );
    expect(document).toMatchObject({ resumedFrom: 4, steps: 6, modelId: 'resumable-2' });
    expect(document.finalLoss).toBe(first.finalLoss);
    expect(await readdir(checkpoints)).not.toContain('.staging-step-000000006-0badc0de');

    const other = await runCli([
      'model',
      'train-sft',
      '--preset',
      'small',
      '--file',
      conversations,
      '--name',
      'resumable',
      '--resume',
      '--json',
    ]);
    expect(other.code).toBe(1);
    expect(onlyDocument(other.stdout)).toMatchObject({ ok: false, error: { code: 'checkpoint_config_mismatch' } });
  });
});
