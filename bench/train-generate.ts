/**
 * Training and generation throughput of the workbench against PyTorch, side by side in one run
 * (absolute speeds drift on a shared machine; ratios measured together do not, much). Not part
 * of `npm test`.
 *
 *   npm run bench -- --only train-generate
 *   node --import tsx bench/train-generate.ts [--json] [--threads N] [--steps N] [--repeats N]
 *
 * The fixed config: GPT-2 (HF GPT2LMHeadModel's layout), vocabulary 512, width 128, 4 layers,
 * 4 heads, context 64, batch 16.
 *
 * - Training tokens/s: one optimizer step of the SFT trainer (forward, backward, clipping to norm
 *   1, AdamW) on 16 sequences of 64 tokens, loss on every token; against the same step in PyTorch
 *   (bench/train_generate_reference.py: Debian's python3-torch with OpenBLAS, 2 threads). The
 *   workbench runs on its default backend here (wasm) with its data-parallel gradient threads.
 * - Generation tokens/s: 16 prompts of 16 tokens, 48 new tokens each with the key/value cache,
 *   sampled at temperature 1; against the same loop in PyTorch.
 * - The fraction of the machine's measured matmul peak (PyTorch's 1024×1024 product on 2 threads)
 *   that training reaches, counting the step's FLOPs: 3 × forward, forward per token =
 *   layers × (24·d² + 4·T·d) + 2·d·V (the weight products, the attention products over the full T,
 *   and the tied head).
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src-main/engine/backend.js';
import { tf } from '../src-main/engine/compute/tf.js';
import { gpt2Config } from '../src-main/engine/model/config.js';
import { generate } from '../src-main/engine/model/generate.js';
import { countParameters, createModel } from '../src-main/engine/model/model.js';
import { Random } from '../src-main/engine/model/random.js';
import type { SftExample } from '../src-main/engine/train/data.js';
import { OPTIMIZER_DEFAULTS } from '../src-main/engine/train/optimizers.js';
import { createGradientExecutor, defaultThreads } from '../src-main/engine/train/parallel.js';
import { SftTrainer, resolveHyperparameters } from '../src-main/engine/train/sft.js';

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
};
const json = process.argv.includes('--json');
const CONFIG = { vocabulary: 512, width: 128, layers: 4, heads: 4, context: 64, positions: 128, batch: 16 };
const GENERATION = { prompt: 16, newTokens: 48 };
const steps = Number(argument('--steps') ?? 5);
/** Timed runs of each measurement; the best counts, on both sides (a shared machine is noisy). */
const repeats = Number(argument('--repeats') ?? 3);
const threads = Number(argument('--threads') ?? defaultThreads('wasm'));
const python = argument('--python') ?? '/usr/bin/python3';

const log = (line: string) => {
  if (!json) process.stderr.write(`${line}\n`);
};

function gpt2() {
  return createModel(
    gpt2Config({
      vocabSize: CONFIG.vocabulary,
      hiddenSize: CONFIG.width,
      numHiddenLayers: CONFIG.layers,
      numAttentionHeads: CONFIG.heads,
      maxPositionEmbeddings: CONFIG.positions,
    }),
    { seed: 0 },
  );
}

/** Sequences of context + 1 random tokens with the loss on every target, as the reference trains. */
function examples(count: number): SftExample[] {
  const random = new Random(0);
  return Array.from({ length: count }, () => {
    const ids = Array.from({ length: CONFIG.context + 1 }, () => random.nextInt(CONFIG.vocabulary));
    return { ids, lossMask: ids.map(() => 1) };
  });
}

async function trainingTokensPerSecond(threadCount: number): Promise<{ tokensPerSecond: number; stepSeconds: number }> {
  const model = gpt2();
  const executor = await createGradientExecutor(model, { threads: threadCount });
  if (executor.note) log(`note: ${executor.note}`);
  const trainer = new SftTrainer(
    model,
    examples(CONFIG.batch * (repeats * steps + 2)),
    resolveHyperparameters({
      batchSize: CONFIG.batch,
      learningRate: 1e-3,
      schedule: 'constant',
      optimizer: OPTIMIZER_DEFAULTS.adamw,
      maxGradNorm: 1,
      maxLength: CONFIG.context + 1,
      shards: threadCount,
      epochs: 1,
    }),
    executor,
  );
  try {
    await trainer.trainStep();
    await trainer.trainStep();
    let best = { tokensPerSecond: 0, stepSeconds: Infinity };
    for (let round = 0; round < repeats; round++) {
      const start = performance.now();
      let tokens = 0;
      for (let step = 0; step < steps; step++) tokens += (await trainer.trainStep()).tokens;
      const seconds = (performance.now() - start) / 1000;
      if (seconds / steps < best.stepSeconds)
        best = { tokensPerSecond: tokens / seconds, stepSeconds: seconds / steps };
    }
    return best;
  } finally {
    trainer.dispose();
    await executor.close();
    model.dispose();
  }
}

async function generationTokensPerSecond(): Promise<{ tokensPerSecond: number; seconds: number }> {
  const model = gpt2();
  model.setTrainable(false);
  const random = new Random(1);
  const prompts = Array.from({ length: CONFIG.batch }, () =>
    Array.from({ length: GENERATION.prompt }, () => random.nextInt(CONFIG.vocabulary)),
  );
  const options = { temperature: 1, eosTokenIds: [], seed: 0 };
  try {
    await generate(model, null, prompts, { ...options, maxNewTokens: 4 });
    let best = { tokensPerSecond: 0, seconds: Infinity };
    for (let round = 0; round < repeats; round++) {
      const start = performance.now();
      const results = await generate(model, null, prompts, { ...options, maxNewTokens: GENERATION.newTokens });
      const seconds = (performance.now() - start) / 1000;
      const tokens = results.reduce((sum, row) => sum + row.tokens.length, 0);
      if (seconds < best.seconds) best = { tokensPerSecond: tokens / seconds, seconds };
    }
    return best;
  } finally {
    model.dispose();
  }
}

interface Reference {
  torch: string;
  threads: number;
  parameters: number;
  train_tokens_per_second: number;
  generate_tokens_per_second: number;
  matmul_gflops: number;
}

function reference(threadCount: number): Reference | { error: string } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'train_generate_reference.py');
  const run = spawnSync(
    python,
    [
      script,
      '--json',
      '--threads',
      String(threadCount),
      '--steps',
      String(steps),
      '--repeats',
      String(repeats),
      '--new-tokens',
      String(GENERATION.newTokens),
      '--prompt',
      String(GENERATION.prompt),
    ],
    { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threadCount) }, timeout: 600_000 },
  );
  if (run.status !== 0) return { error: (run.stderr || run.error?.message || `exit ${run.status}`).trim().slice(-500) };
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as Reference;
}

/** Training FLOPs per token: 3 × the forward's products (see the file comment). */
function trainingFlopsPerToken(): number {
  const { width: d, layers, context: T, vocabulary: V } = CONFIG;
  return 3 * (layers * (24 * d * d + 4 * T * d) + 2 * d * V);
}

async function main(): Promise<void> {
  await selectBackend('wasm');
  const load = os.loadavg()[0]?.toFixed(2);
  log(`backend ${tf.getBackend()}, ${os.availableParallelism()} cores, load average ${load} at the start`);
  const parameters = (() => {
    const model = gpt2();
    const count = countParameters(model);
    model.dispose();
    return count;
  })();

  log('PyTorch reference, 2 threads …');
  const torch = reference(2);
  log('PyTorch reference, 1 thread …');
  const torchOneThread = reference(1);
  log(`workbench training on ${threads} thread(s) …`);
  const train = await trainingTokensPerSecond(threads);
  log('workbench training on 1 thread …');
  const trainOneThread = threads === 1 ? train : await trainingTokensPerSecond(1);
  log('workbench generation …');
  const generation = await generationTokensPerSecond();

  const flopsPerToken = trainingFlopsPerToken();
  const ours = {
    backend: tf.getBackend(),
    threads,
    parameters,
    trainTokensPerSecond: train.tokensPerSecond,
    trainStepSeconds: train.stepSeconds,
    trainTokensPerSecondOneThread: trainOneThread.tokensPerSecond,
    generateTokensPerSecond: generation.tokensPerSecond,
    trainGflops: (train.tokensPerSecond * flopsPerToken) / 1e9,
  };
  const result: Record<string, unknown> = {
    config: { ...CONFIG, ...GENERATION, trainingFlopsPerToken: flopsPerToken },
    workbench: ours,
    pytorch: torch,
    pytorchOneThread: torchOneThread,
    loadAverage: os.loadavg(),
  };
  if ('error' in torch) {
    log(`PyTorch reference failed: ${torch.error}`);
  } else {
    const peak = torch.matmul_gflops;
    result['ratios'] = {
      training: ours.trainTokensPerSecond / torch.train_tokens_per_second,
      trainingOneThread: ours.trainTokensPerSecondOneThread / torch.train_tokens_per_second,
      generation: ours.generateTokensPerSecond / torch.generate_tokens_per_second,
    };
    result['peak'] = {
      matmulGflops: peak,
      workbenchTrainingFraction: ours.trainGflops / peak,
      pytorchTrainingFraction: (torch.train_tokens_per_second * flopsPerToken) / 1e9 / peak,
    };
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows: Record<string, string | number>[] = [
    {
      measure: 'training tokens/s (fwd+bwd+clip+AdamW)',
      workbench: Math.round(ours.trainTokensPerSecond),
      pytorch: 'error' in torch ? 'n/a' : Math.round(torch.train_tokens_per_second),
      ratio: 'error' in torch ? 'n/a' : (ours.trainTokensPerSecond / torch.train_tokens_per_second).toFixed(2),
      goal: '≥ 0.5',
    },
    {
      measure: 'training tokens/s, 1 thread',
      workbench: Math.round(ours.trainTokensPerSecondOneThread),
      pytorch: 'error' in torch ? 'n/a' : Math.round(torch.train_tokens_per_second),
      ratio: 'error' in torch ? 'n/a' : (ours.trainTokensPerSecondOneThread / torch.train_tokens_per_second).toFixed(2),
      goal: '',
    },
    ...('error' in torchOneThread
      ? []
      : [
          {
            measure: 'PyTorch on 1 thread: training / generation tokens/s',
            workbench: '',
            pytorch: `${Math.round(torchOneThread.train_tokens_per_second)} / ${Math.round(torchOneThread.generate_tokens_per_second)}`,
            ratio: `${(ours.trainTokensPerSecond / torchOneThread.train_tokens_per_second).toFixed(2)} / ${(
              ours.generateTokensPerSecond / torchOneThread.generate_tokens_per_second
            ).toFixed(2)}`,
            goal: '',
          },
        ]),
    {
      measure: 'generation tokens/s (KV cache, batch 16)',
      workbench: Math.round(ours.generateTokensPerSecond),
      pytorch: 'error' in torch ? 'n/a' : Math.round(torch.generate_tokens_per_second),
      ratio: 'error' in torch ? 'n/a' : (ours.generateTokensPerSecond / torch.generate_tokens_per_second).toFixed(2),
      goal: '≥ 1',
    },
  ];
  process.stdout.write(
    `\nGPT-2 V${CONFIG.vocabulary} d${CONFIG.width} L${CONFIG.layers} H${CONFIG.heads} T${CONFIG.context} ` +
      `B${CONFIG.batch}, ${parameters.toLocaleString('en-US')} weights; workbench on ${ours.backend} with ${threads} thread(s)\n`,
  );
  console.table(rows);
  if (!('error' in torch)) {
    const peak = result['peak'] as {
      matmulGflops: number;
      workbenchTrainingFraction: number;
      pytorchTrainingFraction: number;
    };
    process.stdout.write(
      `matmul peak (PyTorch 1024×1024, 2 threads): ${peak.matmulGflops.toFixed(1)} GFLOP/s; training reaches ` +
        `${ours.trainGflops.toFixed(1)} GFLOP/s = ${(100 * peak.workbenchTrainingFraction).toFixed(1)} % of it ` +
        `(PyTorch: ${(100 * peak.pytorchTrainingFraction).toFixed(1)} %)\n`,
    );
  }
  process.stdout.write(
    `load average now ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(', ')}\n`,
  );
}

await main();
