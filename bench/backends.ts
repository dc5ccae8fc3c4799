/**
 * Backend benchmark: the same work on every tfjs backend this machine has, side by side in one
 * run, reported as ratios to the plain-JS `cpu` backend (absolute times drift on a shared
 * machine; ratios measured in one run do not). Not part of `npm test`.
 *
 *   npm run bench            # all backends present
 *   npm run bench -- --json  # one JSON document on stdout
 */
import { selectBackend } from '../src-main/engine/backend.js';
import { tf } from '../src-main/engine/compute/tf.js';

interface Case {
  name: string;
  flops: number;
  setup: () => { run: () => void; dispose: () => void };
}

function matmulCase(name: string, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): Case {
  return {
    name,
    flops: 2 * m * k * n,
    setup: () => {
      const a = tf.randomNormal(transposeA ? [k, m] : [m, k]);
      const b = tf.randomNormal(transposeB ? [n, k] : [k, n]);
      return {
        run: () => tf.tidy(() => tf.matMul(a, b, transposeA, transposeB).dataSync()),
        dispose: () => tf.dispose([a, b]),
      };
    },
  };
}

/** Forward + backward of one embedding → layer norm → attention block (the gradient self-test's shape class). */
function blockCase(): Case {
  const [batch, time, width, vocab] = [8, 32, 64, 256];
  return {
    name: 'attention block fwd+bwd (B8 T32 d64)',
    flops: 0,
    setup: () => {
      const embedding = tf.variable(tf.randomNormal([vocab, width], 0, 0.02));
      const wq = tf.variable(tf.randomNormal([width, width], 0, 0.1));
      const wk = tf.variable(tf.randomNormal([width, width], 0, 0.1));
      const wv = tf.variable(tf.randomNormal([width, width], 0, 0.1));
      const ids = tf.randomUniform([batch * time], 0, vocab, 'int32');
      const mask = tf.linalg.bandPart(tf.ones([time, time]), -1, 0);
      const loss = () =>
        tf.tidy(() => {
          const x = tf.gather(embedding, ids).reshape([batch * time, width]); // (B·T, d)
          const moments = tf.moments(x, -1, true);
          const normed = x.sub(moments.mean).div(moments.variance.add(1e-5).sqrt()); // (B·T, d)
          const q = normed.matMul(wq).reshape([batch, time, width]); // (B, T, d)
          const k = normed.matMul(wk).reshape([batch, time, width]);
          const v = normed.matMul(wv).reshape([batch, time, width]);
          const scores = tf.matMul(q, k, false, true).div(Math.sqrt(width)); // (B, T, T)
          const masked = scores.add(tf.sub(1, mask).mul(-1e9));
          const out = tf.matMul(tf.softmax(masked), v); // (B, T, d)
          return out.square().mean() as tf.Scalar;
        });
      const optimizer = tf.train.adam(1e-3);
      return {
        run: () => {
          const cost = optimizer.minimize(loss, true);
          cost?.dataSync();
          cost?.dispose();
        },
        dispose: () => {
          optimizer.dispose();
          tf.dispose([embedding, wq, wk, wv, ids, mask]);
        },
      };
    },
  };
}

const CASES: Case[] = [
  matmulCase('matmul 1024x128 · 128x512', 1024, 128, 512, false, false),
  matmulCase('matmul A·Bᵀ (input gradient)', 1024, 512, 128, false, true),
  matmulCase('matmul Aᵀ·B (weight gradient)', 128, 1024, 512, true, false),
  blockCase(),
];

async function timeCase(testCase: Case, minSeconds = 1.5): Promise<number> {
  const { run, dispose } = testCase.setup();
  try {
    run(); // warm-up: kernel compilation, allocation
    let iterations = 0;
    const start = performance.now();
    while (performance.now() - start < minSeconds * 1000 || iterations < 3) {
      run();
      iterations++;
    }
    return (performance.now() - start) / iterations / 1000;
  } finally {
    dispose();
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const info = await selectBackend('auto');
  const present = info.attempts.filter((a) => a.chosen || a.reason === 'not tried: a better backend was selected');
  const names = [...new Set(['cpu', ...present.map((a) => (a.name === 'tensorflow-gpu' ? 'tensorflow' : a.name))])];
  const backends = names.filter((name) => tf.findBackend(name) !== null || tf.engine().registryFactory[name]);
  const results: Record<string, Record<string, number>> = {};
  for (const backend of backends) {
    if (!(await tf.setBackend(backend))) continue;
    await tf.ready();
    results[backend] = {};
    for (const testCase of CASES) {
      const seconds = await timeCase(testCase);
      results[backend]![testCase.name] = seconds;
      if (!json)
        process.stderr.write(`${backend.padEnd(11)} ${testCase.name.padEnd(40)} ${(seconds * 1000).toFixed(2)} ms\n`);
    }
  }
  const reference = results.cpu ?? {};
  const rows = CASES.map((testCase) => {
    const row: Record<string, string | number> = { case: testCase.name };
    for (const backend of Object.keys(results)) {
      const seconds = results[backend]![testCase.name]!;
      row[`${backend} ms`] = Number((seconds * 1000).toFixed(2));
      row[`${backend} speed-up vs cpu`] = Number(((reference[testCase.name] ?? seconds) / seconds).toFixed(2));
      if (testCase.flops > 0) row[`${backend} GFLOP/s`] = Number((testCase.flops / seconds / 1e9).toFixed(2));
    }
    return row;
  });
  if (json) process.stdout.write(`${JSON.stringify({ backend: info, rows }, null, 2)}\n`);
  else console.table(rows);
}

await main();
