/**
 * Regenerates the demo's base model and its deployment logs from scratch (ARCHITECTURE.md, "The
 * embedded default"):
 *
 * 1. writes the simulated deployment's oracle conversations (train split) as SFT data, a share of
 *    them with a wrong first answer (not trained on), the user's reaction and the correction;
 * 2. trains the `small` preset on them as the engine's SFT job (`model.train-sft`) does (a
 *    byte-level BPE tokenizer trained on the data, a Llama-family decoder of about 1M weights, the
 *    SFT trainer), and stops as soon as it answers 40% of validation prompts right, so that it
 *    stays imperfect;
 * 3. saves it as an HF folder in resources/demo/base-model/;
 * 4. measures its success rate on held-out prompts with the checker;
 * 5. deploys it to simulated users (sampled answers, multi-turn) and writes the logs as WildChat
 *    JSONL, with the ground-truth labels and answer checks beside them, and a README with the
 *    figures.
 *
 *   node --import tsx scripts/demo/build-base-model.ts [--out resources/demo] [--seed 7]
 *     [--sft-conversations 6000] [--max-steps 1500] [--target-rate 0.4] [--validate-every 100]
 *     [--correction-rate 0.3] [--habit-rate 0.5] [--deploy 800] [--eval 600] [--threads 2] [--deploy-only]
 *
 * `--deploy-only` loads the committed base model and redoes step 5 alone (the logs and the ground
 * truth), for changes to what the ground truth records; it says whether the logs came out the same.
 * `--readme-only` rewrites README.md from build-report.json, for changes to its wording.
 *
 * Deterministic for a seed and thread count (the SFT's data-parallel shards are part of the run).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../../src-main/engine/backend.js';
import type { CausalLanguageModel } from '../../src-main/engine/model/index.js';
import { countParameters, createModel, loadHfModel, saveHfModel } from '../../src-main/engine/model/index.js';
import { tokenizerFiles } from '../../src-main/engine/model/store.js';
import type { SuccessRate } from '../../src-main/engine/sim/index.js';
import {
  SIM_SAMPLING,
  deploy,
  heldOutSuccessRate,
  heldOutTasks,
  sftConversations,
} from '../../src-main/engine/sim/index.js';
import type { ChatMessage, Tokenizer } from '../../src-main/engine/text/index.js';
import {
  DEFAULT_CHAT_TEMPLATE,
  applyChatTemplate,
  loadTokenizer,
  trainByteLevelBpe,
} from '../../src-main/engine/text/index.js';
import { tokenizeRecords } from '../../src-main/engine/train/data.js';
import { createGradientExecutor } from '../../src-main/engine/train/parallel.js';
import { PRESETS, presetConfig } from '../../src-main/engine/train/presets.js';
import { SftTrainer, resolveHyperparameters } from '../../src-main/engine/train/sft.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function option(name: string, fallback: number): number;
function option(name: string, fallback: string): string;
function option(name: string, fallback: number | string): number | string {
  const index = process.argv.indexOf(`--${name}`);
  const value = index === -1 ? undefined : process.argv[index + 1];
  if (value === undefined) return fallback;
  if (typeof fallback === 'number') {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name} needs a number, not ${value}`);
    return parsed;
  }
  return value;
}

const settings = {
  out: path.resolve(ROOT, option('out', 'resources/demo')),
  seed: option('seed', 7),
  sftConversations: option('sft-conversations', 6000),
  /** Share of the oracle's first answers that are wrong and then corrected (corpus.ts). */
  correctionRate: option('correction-rate', 0.3),
  /** Share of first answers given in a habitual form (a sentence, a numbered list) where another was asked for (corpus.ts). */
  habitRate: option('habit-rate', 0.5),
  /** Training stops here at the latest. */
  maxSteps: option('max-steps', 1500),
  /** …or as soon as the validation prompts are answered this well (sampled as deployed). */
  targetRate: option('target-rate', 0.4),
  validateEvery: option('validate-every', 100),
  validation: option('validation', 200),
  deploy: option('deploy', 800),
  eval: option('eval', 600),
  threads: option('threads', 2),
  batchSize: 16,
  learningRate: 3e-3,
  maxLength: 256,
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;

async function writeJsonl(file: string, rows: readonly unknown[]): Promise<void> {
  await writeFile(file, rows.map((row) => `${JSON.stringify(row)}\n`).join(''), 'utf8');
}

/** The SFT texts the tokenizer learns from: each conversation rendered as it will be trained on (as the SFT job does). */
function trainingTexts(records: readonly { messages: ChatMessage[] }[]): string[] {
  return records.map((record) =>
    applyChatTemplate(record.messages, { template: DEFAULT_CHAT_TEMPLATE, eosToken: '<|im_end|>' }),
  );
}

interface Trained {
  model: CausalLanguageModel;
  tokenizer: Tokenizer;
  steps: number;
  finalLoss: number | null;
  /** The validation checks made while training: step and sampled success rate. */
  validations: { step: number; rate: number }[];
}

/**
 * The `small` preset trained from scratch with the engine's SFT trainer, as `model.train-sft`
 * does, except that it stops early: every `validateEvery` steps the model answers validation
 * prompts (held-out split, another seed than the evaluation's), and training stops once it gets
 * `targetRate` of them right. That keeps the model imperfect by training it little, not by
 * teaching it anything wrong.
 */
async function train(records: readonly { messages: ChatMessage[] }[]): Promise<Trained> {
  await selectBackend('wasm');
  const preset = PRESETS.small;
  const tokenizer = trainByteLevelBpe(trainingTexts(records), { vocabSize: preset.tokenizerVocabSize });
  const model = createModel(presetConfig('small', tokenizer), { seed: settings.seed });
  const { examples, stats } = tokenizeRecords(records, tokenizer, settings.maxLength);
  log(`  ${stats.examples} examples, ${stats.tokens} tokens (${stats.lossTokens} trained on), ${stats.truncated} cut`);
  const hyperparameters = resolveHyperparameters({
    maxSteps: settings.maxSteps,
    batchSize: settings.batchSize,
    learningRate: settings.learningRate,
    schedule: 'constant',
    warmupSteps: 30,
    maxLength: settings.maxLength,
    shards: settings.threads,
    seed: settings.seed,
  });
  const executor = await createGradientExecutor(model, { threads: settings.threads });
  if (executor.note !== '') log(`  note: ${executor.note}`);
  const { eos, pad } = tokenizer.specialTokens;
  const trainer = new SftTrainer(model, examples, hyperparameters, executor, pad?.id ?? eos?.id ?? 0);
  const validation = heldOutTasks(settings.validation, settings.seed + 1);
  const validations: { step: number; rate: number }[] = [];
  let finalLoss: number | null = null;
  try {
    while (!trainer.done) {
      const metrics = await trainer.trainStep();
      finalLoss = metrics.loss;
      if (metrics.step % 25 === 0) {
        log(`  step ${metrics.step}  loss ${metrics.loss.toFixed(3)}  ${Math.round(metrics.tokensPerSecond)} tok/s`);
      }
      if (metrics.step % settings.validateEvery === 0) {
        const { rate } = await heldOutSuccessRate(model, tokenizer, validation, { seed: settings.seed + 1 });
        validations.push({ step: metrics.step, rate });
        log(`  validation at step ${metrics.step}: ${percent(rate)} right (target ${percent(settings.targetRate)})`);
        if (rate >= settings.targetRate) break;
      }
    }
  } finally {
    trainer.dispose();
    await executor.close();
  }
  return { model, tokenizer, steps: trainer.step, finalLoss, validations };
}

function rateLines(rate: Pick<SuccessRate, 'byKind'>): string[] {
  return Object.entries(rate.byKind).map(
    ([kind, entry]) => `| ${kind} | ${entry.successes} / ${entry.total} | ${percent(entry.rate)} |`,
  );
}

/** Step 5 alone, with the committed model: rewrites the logs and the ground truth. */
async function redeploy(modelFolder: string, logsFolder: string, truthFolder: string): Promise<void> {
  await selectBackend('wasm');
  const model = await loadHfModel(modelFolder, { trainable: false });
  const tokenizer = await loadTokenizer(modelFolder);
  log(`5/5 deployment only: ${settings.deploy} conversations with simulated users`);
  const deployment = await deploy(model, tokenizer, settings.deploy, settings.seed, {
    onRound: (done, total) => log(`  ${done}/${total} conversations finished`),
  });
  model.dispose();
  const logs = path.join(logsFolder, 'deployment.jsonl');
  const before = await readFile(logs, 'utf8').catch(() => '');
  const after = deployment.records.map((row) => `${JSON.stringify(row)}\n`).join('');
  await writeFile(logs, after, 'utf8');
  await mkdir(truthFolder, { recursive: true });
  await writeJsonl(path.join(truthFolder, 'labels.jsonl'), deployment.labels);
  await writeJsonl(path.join(truthFolder, 'answers.jsonl'), deployment.answers);
  log(before === after ? '  the logs are unchanged' : '  the logs CHANGED: rerun the whole build');
}

async function main(): Promise<void> {
  const started = performance.now();
  const modelFolder = path.join(settings.out, 'base-model');
  const logsFolder = path.join(settings.out, 'logs');
  // Beside the logs, not in them: the demo imports the whole logs/ folder as WildChat.
  const truthFolder = path.join(settings.out, 'ground-truth');
  if (process.argv.includes('--deploy-only')) return redeploy(modelFolder, logsFolder, truthFolder);
  if (process.argv.includes('--readme-only')) {
    const report = JSON.parse(await readFile(path.join(settings.out, 'build-report.json'), 'utf8')) as Report;
    await writeFile(
      path.join(settings.out, 'README.md'),
      readme(report, report.heldOut.sampled, report.heldOut.greedy),
    );
    return;
  }
  try {
    log(
      `1/5 SFT data: ${settings.sftConversations} oracle conversations (seed ${settings.seed}), ` +
        `${percent(settings.correctionRate)} of first answers corrected, ${percent(settings.habitRate)} habitual`,
    );
    const records = await sftConversations(settings.sftConversations, settings.seed, {
      correctionRate: settings.correctionRate,
      habitRate: settings.habitRate,
    });

    log(
      `2/5 SFT of the small preset: up to ${settings.maxSteps} steps of ${settings.batchSize} on ${settings.threads} threads`,
    );
    const trainStarted = performance.now();
    const result = await train(records);
    const trainSeconds = seconds(trainStarted);
    log(`  stopped after ${result.steps} steps in ${trainSeconds} s, loss ${result.finalLoss?.toFixed(3)}`);

    log(`3/5 saving to ${path.relative(ROOT, modelFolder)}`);
    await rm(modelFolder, { recursive: true, force: true });
    await saveHfModel(result.model, modelFolder, { extraFiles: tokenizerFiles(result.model.config, result.tokenizer) });
    result.model.dispose();
    // From here on, the model as saved: what the workbench will load.
    const model = await loadHfModel(modelFolder);
    const tokenizer = await loadTokenizer(modelFolder);
    model.setTrainable(false);
    const parameters = countParameters(model);

    log(`4/5 held-out success rate on ${settings.eval} prompts (sampled as deployed, and greedy)`);
    const tasks = heldOutTasks(settings.eval, settings.seed);
    const sampled = await heldOutSuccessRate(model, tokenizer, tasks, { seed: settings.seed });
    const greedy = await heldOutSuccessRate(model, tokenizer, tasks, { temperature: 0 });
    log(`  sampled ${percent(sampled.rate)}, greedy ${percent(greedy.rate)}`);

    log(`5/5 deployment: ${settings.deploy} conversations with simulated users`);
    const deployStarted = performance.now();
    const deployment = await deploy(model, tokenizer, settings.deploy, settings.seed, {
      onRound: (done, total) => log(`  ${done}/${total} conversations finished`),
    });
    const deploySeconds = seconds(deployStarted);
    model.dispose();
    await rm(logsFolder, { recursive: true, force: true });
    await mkdir(logsFolder, { recursive: true });
    await writeJsonl(path.join(logsFolder, 'deployment.jsonl'), deployment.records);
    await rm(truthFolder, { recursive: true, force: true });
    await mkdir(truthFolder, { recursive: true });
    await writeJsonl(path.join(truthFolder, 'labels.jsonl'), deployment.labels);
    await writeJsonl(path.join(truthFolder, 'answers.jsonl'), deployment.answers);

    const answered = deployment.answers.length;
    const deployedSuccess = deployment.answers.filter((answer) => answer.success).length / Math.max(1, answered);
    const count = (polarity: string) => deployment.labels.filter((label) => label.polarity === polarity).length;
    const report = {
      seed: settings.seed,
      settings,
      model: {
        preset: 'small',
        parameters,
        steps: result.steps,
        finalLoss: result.finalLoss,
        trainSeconds,
        validations: result.validations,
      },
      heldOut: {
        prompts: tasks.length,
        sampled: { rate: sampled.rate, byKind: sampled.byKind, sampling: SIM_SAMPLING },
        greedy: { rate: greedy.rate, byKind: greedy.byKind },
      },
      deployment: {
        conversations: deployment.records.length,
        answers: answered,
        successRate: deployedSuccess,
        labels: { sat: count('sat'), dsat: count('dsat'), neither: count('neither') },
        seconds: deploySeconds,
      },
      totalSeconds: seconds(started),
    };
    await writeFile(path.join(settings.out, 'build-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(settings.out, 'README.md'), readme(report, sampled, greedy));
    const sizes = await Promise.all(
      ['model.safetensors', 'tokenizer.json'].map(
        async (file) => (await readFile(path.join(modelFolder, file))).length,
      ),
    );
    log(`done in ${report.totalSeconds} s; model.safetensors ${sizes[0]} bytes, tokenizer.json ${sizes[1]} bytes`);
  } catch (error) {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  }
}

interface Report {
  seed: number;
  settings: typeof settings;
  model: {
    parameters: number;
    steps: number;
    finalLoss: number | null;
    trainSeconds: number;
    validations: { step: number; rate: number }[];
  };
  heldOut: {
    prompts: number;
    sampled: Pick<SuccessRate, 'byKind' | 'rate'>;
    greedy: Pick<SuccessRate, 'byKind' | 'rate'>;
  };
  deployment: {
    conversations: number;
    answers: number;
    successRate: number;
    labels: { sat: number; dsat: number; neither: number };
  };
  totalSeconds: number;
}

/** Why training stopped where it did: the validation target, or the step limit. */
function stopping(report: Report): string {
  const { validateEvery, validation, targetRate, maxSteps } = report.settings;
  const reached = report.model.validations.some((check) => check.rate >= targetRate);
  return reached
    ? `Training stopped at the first check (every ${validateEvery} steps) where the model answered at least
${percent(targetRate)} of ${validation} validation prompts right`
    : `Training ran to its limit of ${maxSteps} steps without answering ${percent(targetRate)} of ${validation}
validation prompts right (checked every ${validateEvery} steps)`;
}

function readme(
  report: Report,
  sampled: Pick<SuccessRate, 'byKind' | 'rate'>,
  greedy: Pick<SuccessRate, 'byKind' | 'rate'>,
): string {
  return `# The demo: a simulated deployment

Generated by \`node --import tsx scripts/demo/build-base-model.ts\` (seed ${report.seed}; ${report.totalSeconds} s on the
machine that built it). Do not edit by hand: rerun the script. Everything here is made by the
project; nothing is downloaded.

## base-model/

A Llama-family decoder of ${report.model.parameters.toLocaleString('en')} weights (the \`small\` preset: width 128,
4 layers, 4 heads, tied embeddings) with a byte-level BPE tokenizer trained on its data and a ChatML
chat template. Trained with the workbench's own SFT trainer as \`model.train-sft\` trains a preset
(${report.model.steps} steps of ${report.settings.batchSize} sequences, AdamW at a constant ${report.settings.learningRate} after 30 warmup steps,
final loss ${report.model.finalLoss?.toFixed(3)}, ${report.model.trainSeconds} s) on ${report.settings.sftConversations} conversations of the simulated
deployment in which the assistant answers right, except that ${percent(report.settings.correctionRate)} of first answers to a task are
wrong, the user reacts, and the next answer corrects it (src-main/engine/sim/corpus.ts): the wrong
answers are context and never trained on, and some corrections follow a system turn asking for an
improved answer, so the model learns to use feedback as chat models do. It also learns two habits
that chat models pick up from their instruction data and users complain about: ${percent(report.settings.habitRate)} of first
answers to a request for the answer alone are a full sentence, and as many lists asked for in
another format are numbered (the content right, the form not what was asked; these are trained on,
and the user's complaint and an answer in the form asked for follow). ${stopping(report)}. Validation by step: ${report.model.validations
    .map((check) => `step ${check.step}: ${percent(check.rate)}`)
    .join(', ')}. Apart from its habits, it is imperfect because it is small and briefly trained; no
answer with wrong content is trained on.

Held-out success rate (${report.heldOut.prompts} prompts the training never saw, \`heldOutTasks(${report.heldOut.prompts}, ${report.seed})\`,
checked by src-main/engine/sim/checker.ts):

- sampled as deployed (temperature ${SIM_SAMPLING.temperature}, top-p ${SIM_SAMPLING.topP}): **${percent(sampled.rate)}**
- greedy: ${percent(greedy.rate)}

| task kind (sampled) | right | rate |
|---|---|---|
${rateLines(sampled).join('\n')}

| task kind (greedy) | right | rate |
|---|---|---|
${rateLines(greedy).join('\n')}

## logs/

- \`deployment.jsonl\`: ${report.deployment.conversations} conversations of the base model with simulated users, in
  WildChat-1M's record format (the importer detects it as \`wildchat\`). The model samples its
  answers; users react as WildFeedback's users do (src-main/engine/sim/user.ts): DSAT turns after
  wrong or badly formatted answers, SAT turns or new requests after right ones, in several
  languages, with typos and off-topic turns. Nothing else is in logs/: it is imported whole.

## ground-truth/

What the simulator knows and the logs do not say, keyed by \`conversation_hash\` and turn index:

- \`labels.jsonl\`: the ground truth of every user turn that follows an answer (\`polarity\`,
  \`categories\`, and the checker's verdict on the answer it judges): ${report.deployment.labels.dsat} DSAT, ${report.deployment.labels.sat} SAT, ${report.deployment.labels.neither} neither.
- \`answers.jsonl\`: the checker's verdict on each of the ${report.deployment.answers} answers to a task; ${percent(report.deployment.successRate)}
  were right (multi-turn, so retries after a failure count too). Each row holds its \`task\` (values
  and phrasing), so the demo checks the preference pairs its runs train on (\`pairChecks\`).

\`build-report.json\` holds these figures in full.
`;
}

await main();
