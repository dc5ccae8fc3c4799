/**
 * Evaluation analysis benchmark (not part of `npm test`): the two steps that dominated the demo's
 * "analysing" phase, each beside a plain reference in the same run, on a synthetic evaluation the
 * demo's shape (0/1 checker rewards, samples that repeat: the demo's 32,000 responses hold about
 * 4,000 distinct texts).
 *
 * - Win rates: the paired win rate with its two prompt-level bootstrap intervals, as the engine
 *   computes it (pairedWinRate: per-prompt aggregates, comparisons folded into distinct
 *   (Δlength, outcome) rows) against the reference that flattens every resample and fits the
 *   length-controlled model on every comparison (test/engine/eval/reference-win-rate.ts). Both
 *   give the same intervals (statistics.test.ts checks it); the bench checks it again here.
 * - The reward map's projection: UMAP over each distinct response (what the engine does, copies
 *   share their point) against UMAP over every response.
 *
 *   node --import tsx bench/evaluation-analysis.ts [--prompts 400] [--samples 8] [--pairs 4]
 *     [--map-responses 6000] [--distinct 0.13] [--bootstrap 1000]
 *
 * Prints seconds per row and the reference's time over the engine's (higher is better).
 */
import { hashedTfidfEmbeddings } from '../src-main/engine/eval/embeddings.js';
import { distinctTexts } from '../src-main/engine/eval/evaluate.js';
import { projectTo2d } from '../src-main/engine/eval/map.js';
import { pairedWinRate, type Comparison } from '../src-main/engine/eval/statistics.js';
import { Random } from '../src-main/engine/model/index.js';
import { referenceWinRateIntervals } from '../test/engine/eval/reference-win-rate.js';
import { numberOption } from './options.js';

const prompts = numberOption('--prompts', 400);
const samples = numberOption('--samples', 8);
const pairs = numberOption('--pairs', 4);
const mapResponses = numberOption('--map-responses', 6000);
const distinctShare = numberOption('--distinct', 0.13);
const bootstrapSamples = numberOption('--bootstrap', 1000);
const random = new Random(2026);

/** A checkpoint's answers: each prompt has a few likely answers (right or wrong), sampled with repeats. */
function answers(checkpoint: number): { text: string; reward: number }[] {
  return Array.from({ length: prompts * samples }, (_, index) => {
    const prompt = Math.floor(index / samples);
    const variant = random.nextInt(4);
    const right = random.nextFloat() < 0.3 + 0.02 * checkpoint;
    const text = right
      ? `${variant % 2 === 0 ? '' : 'The answer is '}${prompt * 7}${variant === 3 ? '.' : ''}`
      : `Here is my answer to task ${prompt}: ${(prompt * 7 + 1 + variant) % 97}`;
    return { text, reward: right ? 1 : 0 };
  });
}

function byPrompt(
  mine: { text: string; reward: number }[],
  theirs: { text: string; reward: number }[],
): Comparison[][] {
  return Array.from({ length: prompts }, (_, prompt) =>
    Array.from({ length: samples }, (__, sample) => {
      const own = mine[prompt * samples + sample]!;
      const other = theirs[prompt * samples + sample]!;
      return {
        reward: own.reward,
        opponentReward: other.reward,
        length: own.text.length,
        opponentLength: other.text.length,
      };
    }),
  );
}

function seconds(body: () => void): number {
  const started = performance.now();
  body();
  return (performance.now() - started) / 1000;
}

const checkpoints = Array.from({ length: pairs + 1 }, (_, checkpoint) => answers(checkpoint));
const settings = { tieMargin: 0, bootstrapSamples, confidence: 0.95 };
let engineWinRates = 0;
let referenceWinRates = 0;
let worst = 0;
for (let pair = 1; pair <= pairs; pair++) {
  const comparisons = byPrompt(checkpoints[pair]!, checkpoints[0]!);
  let fast: ReturnType<typeof pairedWinRate> | undefined;
  let plain: ReturnType<typeof referenceWinRateIntervals> | undefined;
  engineWinRates += seconds(() => (fast = pairedWinRate(pair, 0, comparisons, settings, pair)));
  referenceWinRates += seconds(
    () =>
      (plain = referenceWinRateIntervals(comparisons, 0, {
        resamples: bootstrapSamples,
        confidence: 0.95,
        seed: pair,
      })),
  );
  worst = Math.max(
    worst,
    Math.abs(fast!.interval.low - plain!.interval.low),
    Math.abs(fast!.interval.high - plain!.interval.high),
    Math.abs(fast!.lengthControlled.interval.low - plain!.lengthControlled.low),
    Math.abs(fast!.lengthControlled.interval.high - plain!.lengthControlled.high),
  );
}

// The map: responses drawn from a pool of distinct texts, as many copies as the demo has.
const pool = checkpoints.flat().map((answer) => answer.text);
const distinctPool = [...new Set(pool)].slice(0, Math.max(4, Math.round(mapResponses * distinctShare)));
const texts = Array.from({ length: mapResponses }, (_, index) =>
  index < distinctPool.length ? distinctPool[index]! : distinctPool[random.nextInt(distinctPool.length)]!,
);
const vectors = hashedTfidfEmbeddings(texts, { dimensions: 2048, ngram: 3 });
const distinctVectors = distinctTexts(texts).first.map((index) => vectors[index]!);
const engineMap = seconds(() => projectTo2d(distinctVectors, { method: 'umap', seed: 0 }));
const referenceMap = seconds(() => projectTo2d(vectors, { method: 'umap', seed: 0 }));

const rows: [string, string, number, number][] = [
  [
    'win rates',
    `${pairs} pairs, ${prompts} prompts × ${samples}, ${bootstrapSamples} resamples`,
    engineWinRates,
    referenceWinRates,
  ],
  ['map projection', `UMAP, ${distinctVectors.length} distinct of ${texts.length} responses`, engineMap, referenceMap],
];
console.log(
  `${'step'.padEnd(16)}${'what'.padEnd(52)}${'engine s'.padStart(10)}${'reference s'.padStart(13)}${'ratio'.padStart(8)}`,
);
for (const [name, what, engine, reference] of rows) {
  console.log(
    `${name.padEnd(16)}${what.padEnd(52)}${engine.toFixed(2).padStart(10)}${reference.toFixed(2).padStart(13)}${(reference / engine).toFixed(1).padStart(8)}`,
  );
}
console.log(`largest difference between the engine's and the reference's intervals: ${worst.toExponential(1)}`);
if (worst > 1e-9) {
  console.error('The engine and the reference disagree.');
  process.exit(1);
}
