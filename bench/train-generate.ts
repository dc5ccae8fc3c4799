/**
 * Training and generation throughput of the workbench against PyTorch, side by side in one run
 * (absolute speeds drift on a shared machine; ratios measured together do not, much). The run
 * takes several rounds, each timing every measurement of both sides once in turn, and reports each
 * measurement's best round. Not part of `npm test`.
 *
 *   npm run bench -- --only train-generate
 *   node --import tsx bench/train-generate.ts [--json] [--threads N] [--steps N] [--rounds N]
 *
 * The fixed config: GPT-2 (HF GPT2LMHeadModel's layout), vocabulary 512, width 128, 4 layers,
 * 4 heads, context 64, batch 16.
 *
 * - Training tokens/s: one optimizer step of the SFT trainer (forward, backward, clipping to norm
 *   1, AdamW) on 16 sequences of 64 tokens, loss on every token; against the same step in PyTorch
 *   (bench/train_generate_reference.py: Debian's python3-torch with OpenBLAS, 2 threads). The
 *   workbench runs on its default backend here (wasm) with its data-parallel gradient threads.
 * - Generation tokens/s: 16 prompts of 16 tokens, 48 new tokens each with the key/value cache,
 *   sampled at temperature 1; against the same loop in PyTorch. The workbench splits the batch over
 *   its generation pool's threads (as many as training uses), and also runs it on one thread.
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
import { createGenerationPool } from '../src-main/engine/model/generation-pool.js';
import { countParameters, createModel } from '../src-main/engine/model/model.js';
import { Random } from '../src-main/engine/model/random.js';
import type { SftExample } from '../src-main/engine/train/data.js';
import { OPTIMIZER_DEFAULTS } from '../src-main/engine/compute/optimizers.js';
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
/**
 * Rounds: each round times every measurement of both sides once, in turn, so both see the
 * machine's load alike; each measurement's best round counts (a shared machine is noisy).
 */
const rounds = Number(argument('--rounds') ?? 3);
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

/** A measurement kept alive across rounds: each call times one round and returns tokens/s. */
interface Session {
  measure(): Promise<number>;
  close(): Promise<void>;
}

/** Training steps of the SFT trainer on `threadCount` threads (shards = threads). */
async function trainingSession(threadCount: number): Promise<Session> {
  const model = gpt2();
  const executor = await createGradientExecutor(model, { threads: threadCount });
  if (executor.note) log(`note: ${executor.note}`);
  const trainer = new SftTrainer(
    model,
    examples(CONFIG.batch * (rounds * steps + 2)),
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
  await trainer.trainStep();
  await trainer.trainStep();
  return {
    measure: async () => {
      const start = performance.now();
      let tokens = 0;
      for (let step = 0; step < steps; step++) tokens += (await trainer.trainStep()).tokens;
      return tokens / ((performance.now() - start) / 1000);
    },
    close: async () => {
      trainer.dispose();
      await executor.close();
      model.dispose();
    },
  };
}

/**
 * 16 prompts of 16 tokens, 48 new tokens each, sampled at temperature 1, on `threadCount` threads
 * (a generation pool splitting the batch; the tokens are the same on any count).
 */
async function generationSession(threadCount: number): Promise<Session> {
  const model = gpt2();
  model.setTrainable(false);
  const pool = threadCount > 1 ? await createGenerationPool(model, { threads: threadCount }) : undefined;
  if (pool?.note) log(`note: ${pool.note}`);
  const random = new Random(1);
  const prompts = Array.from({ length: CONFIG.batch }, () =>
    Array.from({ length: GENERATION.prompt }, () => random.nextInt(CONFIG.vocabulary)),
  );
  const options = { temperature: 1, eosTokenIds: [], seed: 0, ...(pool ? { pool } : {}) };
  // Warm-up: V8 compiles the sampling and the fused kernels' loops after some runs, in every thread.
  for (let run = 0; run < 3; run++)
    await generate(model, null, prompts, { ...options, maxNewTokens: GENERATION.newTokens });
  return {
    measure: async () => {
      const start = performance.now();
      const results = await generate(model, null, prompts, { ...options, maxNewTokens: GENERATION.newTokens });
      const tokens = results.reduce((sum, row) => sum + row.tokens.length, 0);
      return tokens / ((performance.now() - start) / 1000);
    },
    close: async () => {
      await pool?.close();
      model.dispose();
    },
  };
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
      '1',
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

/** The faster of two reference runs, measure by measure (the peak too); an error only if both failed. */
function bestOf(a: Reference | { error: string }, b: Reference | { error: string }): Reference | { error: string } {
  if ('error' in a) return b;
  if ('error' in b) return a;
  return {
    ...a,
    train_tokens_per_second: Math.max(a.train_tokens_per_second, b.train_tokens_per_second),
    generate_tokens_per_second: Math.max(a.generate_tokens_per_second, b.generate_tokens_per_second),
    matmul_gflops: Math.max(a.matmul_gflops, b.matmul_gflops),
  };
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

  const trainParallel = await trainingSession(threads);
  const trainSingle = threads === 1 ? trainParallel : await trainingSession(1);
  const generation = await generationSession(threads);
  const generationSingle = threads === 1 ? generation : await generationSession(1);
  let torch: Reference | { error: string } = { error: 'not run' };
  let torchOneThread: Reference | { error: string } = { error: 'not run' };
  const best = { train: 0, trainOneThread: 0, generate: 0, generateOneThread: 0 };
  for (let round = 1; round <= rounds; round++) {
    log(
      `round ${round} of ${rounds}: PyTorch on 2 threads, workbench training, PyTorch on 1 thread, workbench generation …`,
    );
    torch = bestOf(torch, reference(2));
    best.train = Math.max(best.train, await trainParallel.measure());
    if (threads !== 1) best.trainOneThread = Math.max(best.trainOneThread, await trainSingle.measure());
    torchOneThread = bestOf(torchOneThread, reference(1));
    best.generate = Math.max(best.generate, await generation.measure());
    if (threads !== 1) best.generateOneThread = Math.max(best.generateOneThread, await generationSingle.measure());
  }
  if (threads === 1) {
    best.trainOneThread = best.train;
    best.generateOneThread = best.generate;
  }
  await Promise.all([
    trainParallel.close(),
    generation.close(),
    ...(threads === 1 ? [] : [trainSingle.close(), generationSingle.close()]),
  ]);
  const train = { tokensPerSecond: best.train, stepSeconds: (CONFIG.batch * CONFIG.context) / best.train };
  const trainOneThread = { tokensPerSecond: best.trainOneThread };

  const flopsPerToken = trainingFlopsPerToken();
  const ours = {
    backend: tf.getBackend(),
    threads,
    parameters,
    trainTokensPerSecond: train.tokensPerSecond,
    trainStepSeconds: train.stepSeconds,
    trainTokensPerSecondOneThread: trainOneThread.tokensPerSecond,
    generateTokensPerSecond: best.generate,
    generateTokensPerSecondOneThread: best.generateOneThread,
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
      generationOneThread: ours.generateTokensPerSecondOneThread / torch.generate_tokens_per_second,
      ...('error' in torchOneThread
        ? {}
        : {
            generationVsPytorchOneThread: ours.generateTokensPerSecond / torchOneThread.generate_tokens_per_second,
            generationOneThreadVsPytorchOneThread:
              ours.generateTokensPerSecondOneThread / torchOneThread.generate_tokens_per_second,
          }),
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
    {
      measure: 'generation tokens/s, 1 thread',
      workbench: Math.round(ours.generateTokensPerSecondOneThread),
      pytorch: 'error' in torch ? 'n/a' : Math.round(torch.generate_tokens_per_second),
      ratio:
        'error' in torch
          ? 'n/a'
          : (ours.generateTokensPerSecondOneThread / torch.generate_tokens_per_second).toFixed(2),
      goal: '',
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
