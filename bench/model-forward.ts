/**
 * Model-core benchmark: does the model's code take the backend's fast matrix-product path?
 * Reported as ratios measured in one run (absolute times drift on a shared machine). Not part of
 * `npm test`; the full training and generation benchmark against PyTorch lives elsewhere.
 *
 *   node --import tsx bench/model-forward.ts                 # wasm
 *   node --import tsx bench/model-forward.ts --backend cpu
 *   node --import tsx bench/model-forward.ts --json
 *
 * 1. One linear layer, forward + backward: the model's `linear` (custom gradient, transposes
 *    materialised) against tf.matMul with tfjs's own gradient (transpose flags).
 * 2. Attention products at the tiny-GPT shape: the model's batched layout against per-head 2-D
 *    products, forward.
 * 3. A training step (loss and gradients) of a tiny GPT-2 and a tiny Llama built by the model core,
 *    against a naively written GPT of the same size (../shared/probes/tiny-gpt-step.js), and where
 *    each step's time goes: fast products, transposed products, batched products, the rest.
 * 4. Decoding 32 tokens: with the key/value cache against recomputing the whole sequence.
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, Tensor, Tensor2D, Tensor4D, TensorInfo } from '@tensorflow/tfjs';
import { selectBackend } from '../src-main/engine/backend.js';
import { tf } from '../src-main/engine/compute/tf.js';
import { gpt2Config, llamaConfig } from '../src-main/engine/model/config.js';
import { attentionBias, groupedQueryAttention, linear } from '../src-main/engine/model/layers.js';
import { createModel } from '../src-main/engine/model/model.js';
import type { CausalLanguageModel, KeyValueCache } from '../src-main/engine/model/modeling_utils.js';
import { disposeCache } from '../src-main/engine/model/modeling_utils.js';

const json = process.argv.includes('--json');
const backendArgument = process.argv[process.argv.indexOf('--backend') + 1];
const backend = process.argv.includes('--backend') && backendArgument ? backendArgument : 'wasm';

/** Seconds per call of `run`, after one warm-up call, over at least `minSeconds`. */
function time(run: () => void, minSeconds = 1): number {
  run();
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < minSeconds * 1000 || iterations < 3) {
    run();
    iterations++;
  }
  return (performance.now() - start) / iterations / 1000;
}

const results: Record<string, unknown> = {};
const report = (section: string, rows: Record<string, string | number>[]) => {
  results[section] = rows;
  if (!json) {
    process.stderr.write(`\n${section}\n`);
    console.table(rows);
  }
};

function linearCase(rows: number, input: number, output: number) {
  const x = tf.randomNormal([rows, input]) as Tensor2D;
  const weight = tf.randomNormal([input, output]) as Tensor2D;
  const step = (product: (a: Tensor2D, w: Tensor2D) => Tensor) => () =>
    tf.tidy(() => {
      const grads = tf.grads((a: Tensor, w: Tensor) => product(a as Tensor2D, w as Tensor2D).sum())([x, weight]);
      grads.forEach((gradient) => gradient.dataSync());
    });
  const fast = time(step((a, w) => linear(a, w)));
  const naive = time(step((a, w) => tf.matMul(a, w)));
  tf.dispose([x, weight]);
  return {
    case: `(${rows}×${input}) · (${input}×${output}), fwd+bwd`,
    'fast ms': +(fast * 1000).toFixed(2),
    'tf.matMul ms': +(naive * 1000).toFixed(2),
    'speed-up': +(naive / fast).toFixed(1),
    'fast GFLOP/s': +((3 * 2 * rows * input * output) / fast / 1e9).toFixed(1),
  };
}

function attentionCase(batch: number, time_: number, heads: number, width: number) {
  const query = tf.randomNormal([batch, time_, heads, width]) as Tensor4D;
  const key = tf.randomNormal([batch, heads, time_, width]) as Tensor4D;
  const value = tf.randomNormal([batch, heads, time_, width]) as Tensor4D;
  const bias = attentionBias(undefined, time_, 0);
  const batched = time(() => tf.tidy(() => void groupedQueryAttention(query, key, value, bias, 0.1).dataSync()));
  const perHead = time(() =>
    tf.tidy(() => {
      const q = query.transpose([0, 2, 1, 3]).reshape([batch * heads, time_, width]);
      const keysT = tf.unstack(key.transpose([0, 1, 3, 2]).reshape([batch * heads, width, time_])); // materialised kᵀ
      const values = tf.unstack(value.reshape([batch * heads, time_, width]));
      const mask = bias.reshape([time_, time_]);
      const outputs = tf.unstack(q).map((qi, index) => {
        const scores = tf
          .matMul(qi as Tensor2D, keysT[index] as Tensor2D)
          .mul(0.1)
          .add(mask);
        return tf.matMul(tf.softmax(scores) as Tensor2D, values[index] as Tensor2D);
      });
      tf.stack(outputs).dataSync();
    }),
  );
  tf.dispose([query, key, value, bias]);
  return {
    case: `B${batch} T${time_} H${heads} D${width}, forward`,
    'batched (model) ms': +(batched * 1000).toFixed(2),
    'per-head 2-D ms': +(perHead * 1000).toFixed(2),
    'batched speed-up': +(perHead / batched).toFixed(2),
  };
}

const [VOCABULARY, WIDTH, LAYERS, HEADS, CONTEXT, BATCH] = [512, 128, 4, 4, 64, 16];

function lossOf(model: CausalLanguageModel, ids: Tensor2D): tf.Scalar {
  const { logits } = model.forward(ids.slice([0, 0], [BATCH, CONTEXT - 1]) as Tensor2D); // (B, T−1, V)
  const targets = ids.slice([0, 1], [BATCH, CONTEXT - 1]).reshape([-1]);
  return tf.losses.softmaxCrossEntropy(
    tf.oneHot(targets as tf.Tensor1D, VOCABULARY),
    logits.reshape([-1, VOCABULARY]),
  ) as tf.Scalar;
}

/** The probe's naive GPT (tf.matMul everywhere, tfjs's own gradients), loss and gradients. */
function naiveGptStep(ids: Tensor2D): { run: () => void; dispose: () => void } {
  const init = (shape: number[]) => tf.variable(tf.randomNormal(shape, 0, 0.02));
  const layers = Array.from({ length: LAYERS }, () => ({
    qkv: init([WIDTH, 3 * WIDTH]),
    projection: init([WIDTH, WIDTH]),
    up: init([WIDTH, 4 * WIDTH]),
    down: init([4 * WIDTH, WIDTH]),
  }));
  const embedding = init([VOCABULARY, WIDTH]);
  const variables = [embedding, ...layers.flatMap((layer) => Object.values(layer))];
  const T = CONTEXT - 1;
  const mask = tf.linalg
    .bandPart(tf.ones([T, T]), -1, 0)
    .sub(1)
    .mul(1e9)
    .reshape([1, 1, T, T]);
  const norm = (x: Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5)));
  };
  const loss = () => {
    const input = ids.slice([0, 0], [BATCH, T]).reshape([-1]) as tf.Tensor1D;
    let x = tf.gather(embedding, input) as Tensor; // (B·T, d)
    for (const layer of layers) {
      const qkv = tf
        .matMul(norm(x) as Tensor2D, layer.qkv)
        .reshape([BATCH, T, 3, HEADS, WIDTH / HEADS])
        .transpose([2, 0, 3, 1, 4]);
      const [q, k, v] = tf.unstack(qkv) as [Tensor4D, Tensor4D, Tensor4D];
      const weights = tf.softmax(
        tf
          .matMul(q, k, false, true)
          .mul(1 / Math.sqrt(WIDTH / HEADS))
          .add(mask),
      );
      const attended = tf
        .matMul(weights, v)
        .transpose([0, 2, 1, 3])
        .reshape([BATCH * T, WIDTH]) as Tensor2D;
      x = x.add(tf.matMul(attended, layer.projection));
      x = x.add(tf.matMul(tf.relu(tf.matMul(norm(x) as Tensor2D, layer.up)), layer.down));
    }
    const logits = tf.matMul(x as Tensor2D, embedding, false, true);
    const targets = ids.slice([0, 1], [BATCH, T]).reshape([-1]) as tf.Tensor1D;
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, VOCABULARY), logits) as tf.Scalar;
  };
  return {
    run: () =>
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(loss, variables);
        value.dataSync();
        tf.dispose(Object.values(grads));
      }),
    dispose: () => tf.dispose([...variables, mask]),
  };
}

function modelStep(model: CausalLanguageModel, ids: Tensor2D) {
  const variables = [...model.parameters().values()];
  return () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => lossOf(model, ids), variables);
      value.dataSync();
      tf.dispose(Object.values(grads));
    });
}

/**
 * Where the time of one call of `run` goes: every BatchMatMul is timed (the wasm kernels run
 * synchronously) and sorted by the path it takes: fast (2-D, untransposed), 2-D with a transpose
 * flag, or batched; the rest is every other kernel and tfjs's own work.
 */
function productShares(run: () => void): Record<string, string> {
  const original = tf.getKernel('BatchMatMul', tf.getBackend()) as KernelConfig;
  const seconds = { fast: 0, transposed: 0, batched: 0 };
  const spy: KernelFunc = (args) => {
    const { a } = args.inputs as { a: TensorInfo };
    const attrs = args.attrs as NamedAttrMap & { transposeA: boolean; transposeB: boolean };
    const start = performance.now();
    const output = original.kernelFunc(args);
    const elapsed = (performance.now() - start) / 1000;
    if (a.shape.slice(0, -2).reduce((product, dim) => product * dim, 1) > 1) seconds.batched += elapsed;
    else if (attrs.transposeA || attrs.transposeB) seconds.transposed += elapsed;
    else seconds.fast += elapsed;
    return output;
  };
  tf.unregisterKernel('BatchMatMul', original.backendName);
  tf.registerKernel({ ...original, kernelFunc: spy });
  let total: number;
  try {
    run();
    seconds.fast = seconds.transposed = seconds.batched = 0;
    const start = performance.now();
    run();
    total = (performance.now() - start) / 1000;
  } finally {
    tf.unregisterKernel('BatchMatMul', original.backendName);
    tf.registerKernel(original);
  }
  const share = (part: number) => `${((100 * part) / total).toFixed(0)} %`;
  return {
    'step s': total.toFixed(3),
    'fast 2-D products': share(seconds.fast),
    '2-D products with a transpose flag': share(seconds.transposed),
    'batched products (attention)': share(seconds.batched),
    'everything else': share(total - seconds.fast - seconds.transposed - seconds.batched),
  };
}

function decodeCase(model: CausalLanguageModel, tokens: number) {
  const prompt = tf.tensor2d([[1, 2, 3, 4]], undefined, 'int32');
  const withCache = time(() => {
    let { cache, logits } = model.forward(prompt, { useCache: true, logitsToKeep: 1 });
    for (let step = 0; step < tokens; step++) {
      const next = tf.tidy(() => logits.argMax(-1).cast('int32') as Tensor2D); // (1, 1)
      logits.dispose();
      const output = model.forward(next, { cache, useCache: true });
      next.dispose();
      disposeCache(cache);
      ({ cache, logits } = output as { cache: KeyValueCache; logits: tf.Tensor3D });
    }
    logits.dispose();
    disposeCache(cache);
  }, 0.5);
  const recompute = time(() => {
    let sequence = prompt.clone();
    for (let step = 0; step < tokens; step++) {
      const extended = tf.tidy(() => {
        const { logits } = model.forward(sequence, { logitsToKeep: 1 });
        return tf.concat([sequence, logits.argMax(-1).cast('int32') as Tensor2D], 1) as Tensor2D;
      });
      sequence.dispose();
      sequence = extended;
    }
    sequence.dispose();
  }, 0.5);
  prompt.dispose();
  return {
    case: `${model.config.modelType}, ${tokens} tokens after a 4-token prompt`,
    'cache tokens/s': +(tokens / withCache).toFixed(0),
    'recompute tokens/s': +(tokens / recompute).toFixed(0),
    'cache speed-up': +(recompute / withCache).toFixed(1),
  };
}

async function main(): Promise<void> {
  await selectBackend(backend as 'wasm' | 'cpu');
  if (!json) process.stderr.write(`backend: ${tf.getBackend()}\n`);

  report('1. linear layer, forward + backward', [linearCase(1024, 128, 512), linearCase(1024, 512, 128)]);
  report('2. attention products', [attentionCase(BATCH, CONTEXT, HEADS, WIDTH / HEADS)]);

  const ids = tf.randomUniform([BATCH, CONTEXT], 0, VOCABULARY, 'int32') as Tensor2D;
  const sizes = { vocabSize: VOCABULARY, hiddenSize: WIDTH, numHiddenLayers: LAYERS, numAttentionHeads: HEADS };
  const gpt2 = createModel(gpt2Config({ ...sizes, maxPositionEmbeddings: CONTEXT }), { seed: 1 });
  const llama = createModel(llamaConfig({ ...sizes, intermediateSize: 4 * WIDTH, tieWordEmbeddings: true }), {
    seed: 1,
  });
  const naive = naiveGptStep(ids);
  const naiveSeconds = time(naive.run, 3);
  const rows = [
    { case: 'naive GPT (probe)', 's / step': +naiveSeconds.toFixed(3), 'speed-up vs naive': 1 },
    ...[gpt2, llama].map((model) => {
      const seconds = time(modelStep(model, ids), 3);
      return {
        case: `model core ${model.config.modelType}`,
        's / step': +seconds.toFixed(3),
        'speed-up vs naive': +(naiveSeconds / seconds).toFixed(1),
      };
    }),
  ];
  report(
    `3. training step: loss + gradients, V${VOCABULARY} d${WIDTH} L${LAYERS} H${HEADS} T${CONTEXT} B${BATCH}`,
    rows,
  );
  report('3b. where the time goes', [
    { case: 'naive GPT (probe)', ...productShares(naive.run) },
    { case: 'model core gpt2', ...productShares(modelStep(gpt2, ids)) },
    { case: 'model core llama', ...productShares(modelStep(llama, ids)) },
  ]);
  naive.dispose();

  report('4. decoding (batch 1, greedy)', [decodeCase(gpt2, 32), decodeCase(llama, 32)]);
  gpt2.dispose();
  llama.dispose();
  ids.dispose();
  if (json) process.stdout.write(`${JSON.stringify({ backend: tf.getBackend(), results }, null, 2)}\n`);
}

await main();
