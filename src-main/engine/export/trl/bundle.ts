/**
 * Compiles a preference run into a bundle for Hugging Face TRL with accelerate (DeepSpeed ZeRO-3
 * or FSDP), for analysts who move the recipe to a GPU cluster. The workbench does not train
 * there itself; the bundle's driver does, and `run.import` reads its results back (import.ts).
 *
 *   bundle.json                 the run's config, the plan (one step per iteration), data ids
 *   README.md                   what to run, where things are, what differs from the workbench
 *   requirements.txt            TRL pinned to the API the configs are written for
 *   drift_driver.py             the loop: generate -> pairs -> accelerate launch, resumable
 *   drift_generate.py, drift_pairs.py, drift_train.py, drift_data.py   (templates/*.py)
 *   configs/dpo/iter-<k>.yaml   per-iteration trl.DPOConfig (+ where the policy and pairs are)
 *   configs/accelerate/{zero3,fsdp}.yaml
 *   slurm/drift.sbatch          multi-node: generation on the first node, training on all
 *   data/dsat_data.jsonl, data/seed-data/{train,test}.jsonl, data/sat_data.jsonl   (DRIFT's files)
 *   base-model/                 a copy of the base model, when it has no hub id
 *   outputs/iter-<k>/, work/iter-<k>/   written by the driver on the cluster
 */
import { chmod, copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppFailure, type DsatPair, type RunConfig, type SatRecord } from '../../../api/index.js';
import { driftDsatRow, driftSatRow, preferenceRow } from '../../signals/export.js';
import { JsonlWriter } from '../../signals/jsonl.js';
import { APP_VERSION } from '../../version.js';
import { errorCode, writeFileAtomic } from '../../workspace/atomic.js';
import { TRL_TEMPLATES } from './templates.js';
import { toYaml, type YamlValue } from './yaml.js';

/** Where a model is, as the bundle's scripts read it: a hub id, or a path (relative: inside the bundle). */
export interface BundleModel {
  kind: 'hub' | 'path';
  reference: string;
}

/** A model to name in the bundle: by reference, or a local folder to copy into it. */
export type ModelSource = BundleModel | { kind: 'copy'; folder: string };

export interface BundleSource {
  /** The workspace run it was compiled from, if any. */
  runId: string | null;
  config: RunConfig;
  pairSet: { id: string; datasetId: string; checksum: string } | null;
  /** The pair set's pairs, in order. */
  pairs: AsyncIterable<DsatPair>;
  /** SAT records (SPIN's chosen answers), in order. */
  satRecords: AsyncIterable<SatRecord> | null;
  baseModel: ModelSource;
  /** IterDPO's reward-model judge, when the config names one. */
  judgeModel: ModelSource | null;
  /** Things the resolver wants the reader to know (skipped pairs, how the model was named). */
  notes: string[];
}

export interface BundleOptions {
  outDir: string;
  overwrite: boolean;
  accelerate: 'zero3' | 'fsdp';
  paperScale: boolean;
  nodes: number;
  gpusPerNode: number;
  signal?: AbortSignal;
  onProgress?: (phase: string, done: number, total: number) => void;
}

/** One step of the plan the driver follows (bundle.json `plan`). */
export interface PlanStep {
  iteration: number;
  /** train-fixed: DPO on the seed pairs; generate: sample, build pairs, then DPO. */
  kind: 'train-fixed' | 'generate';
  config: string;
  output: string;
  policy: BundleModel;
  /** Whether the judge scores the samples (IterDPO; selection "judge-best"). */
  score: boolean;
}

export const BUNDLE_FILE = 'bundle.json';
export const BUNDLE_FORMAT = 'drift-wb-trl-bundle';

const DATA = {
  dsat: 'data/dsat_data.jsonl',
  seedTrain: 'data/seed-data/train.jsonl',
  seedTest: 'data/seed-data/test.jsonl',
  sat: 'data/sat_data.jsonl',
} as const;

/** The paper's 7B settings (drift-paper.md §3) that differ from the workbench's small-model defaults. */
function paperScaled(config: RunConfig): RunConfig {
  return {
    ...config,
    hyperparameters: {
      ...config.hyperparameters,
      learningRate: 5e-7,
      maxLength: 2048,
      maxPromptLength: 1024,
    },
    generation: { ...config.generation, maxNewTokens: 512 },
  };
}

/** Held-out pairs: the first testSize, at most testFraction of them (drift_data.test_count). */
export function testCount(pairs: number, testSize: number, testFraction: number): number {
  return Math.max(0, Math.min(testSize, Math.floor(pairs * testFraction)));
}

/** @throws AppFailure `export_unsupported` for a loss TRL's DPOTrainer does not have. */
function assertSupportedLoss(config: RunConfig): void {
  if (config.hyperparameters.loss === 'kto') {
    throw new AppFailure(
      'export_unsupported',
      'TRL’s DPOTrainer has no paired KTO loss (kto_pair was removed; KTO needs KTOTrainer and unpaired data); choose sigmoid or ipo.',
    );
  }
}

/**
 * The trl.DPOConfig keyword arguments of one step. The RPO NLL term is `loss_type [.., "sft"]`
 * with `loss_weights [1, α]`: TRL deprecated rpo_alpha in 0.28 and removed it in 0.29 (PR #4969).
 */
export function dpoArguments(config: RunConfig, step: PlanStep, hasEval: boolean): Record<string, YamlValue> {
  const hyper = config.hyperparameters;
  const losses = hyper.rpoAlpha > 0 ? [hyper.loss, 'sft'] : [hyper.loss];
  const weights = hyper.rpoAlpha > 0 ? [1, hyper.rpoAlpha] : [1];
  return {
    output_dir: step.output,
    beta: hyper.beta,
    loss_type: losses,
    loss_weights: weights,
    learning_rate: hyper.learningRate,
    lr_scheduler_type: hyper.schedule === 'constant' ? 'constant_with_warmup' : hyper.schedule,
    warmup_ratio: hyper.warmupRatio,
    weight_decay: hyper.weightDecay,
    optim: hyper.optimizer === 'rmsprop' ? 'rmsprop' : 'adamw_torch',
    per_device_train_batch_size: hyper.batchSize,
    per_device_eval_batch_size: hyper.batchSize,
    gradient_accumulation_steps: hyper.gradientAccumulation,
    max_grad_norm: hyper.maxGradNorm,
    max_length: hyper.maxLength,
    num_train_epochs: step.iteration === 0 ? hyper.seedEpochs : hyper.iterationEpochs,
    seed: config.seed,
    bf16: true,
    gradient_checkpointing: true,
    logging_steps: 1,
    eval_strategy: hasEval ? 'epoch' : 'no',
    save_strategy: 'no',
    report_to: 'none',
  };
}

function plan(config: RunConfig, seedPairs: number, base: BundleModel, notes: string[]): PlanStep[] {
  const steps: PlanStep[] = [];
  let policy = base;
  const step = (iteration: number, kind: PlanStep['kind']): PlanStep => {
    const made: PlanStep = {
      iteration,
      kind,
      config: `configs/dpo/iter-${iteration}.yaml`,
      output: `outputs/iter-${iteration}`,
      policy,
      score: kind === 'generate' && (config.method === 'iterdpo' || config.generation.selection === 'judge-best'),
    };
    policy = { kind: 'path', reference: made.output };
    return made;
  };
  if (config.seedWarmStart && seedPairs > 0) steps.push(step(0, 'train-fixed'));
  else if (config.seedWarmStart) notes.push('The pair set has no seed pairs, so the seed warm start is skipped.');
  for (let iteration = 1; iteration <= config.iterations; iteration++) {
    steps.push(step(iteration, config.method === 'dpo' ? 'train-fixed' : 'generate'));
  }
  return steps;
}

async function ensureEmpty(outDir: string, overwrite: boolean): Promise<void> {
  if (!path.isAbsolute(outDir) || outDir.includes('\0')) {
    throw new AppFailure(
      'path_outside_workspace',
      `The bundle folder must be an absolute path: ${JSON.stringify(outDir)}.`,
    );
  }
  try {
    const entries = await readdir(outDir);
    if (entries.length > 0 && !overwrite) {
      throw new AppFailure('export_target_not_empty', `${outDir} is not empty (${entries.length} entries).`, {
        outDir,
      });
    }
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  await mkdir(path.join(outDir, 'data', 'seed-data'), { recursive: true });
}

async function copyFolder(from: string, to: string, signal?: AbortSignal): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of await readdir(from)) {
    signal?.throwIfAborted();
    if ((await stat(path.join(from, name))).isFile()) await copyFile(path.join(from, name), path.join(to, name));
  }
}

/**
 * Writes the bundle for `source` into `options.outDir` (empty or new unless overwrite).
 * @throws AppFailure `export_target_not_empty`, `export_unsupported` (KTO loss; no data for the
 * method), `path_outside_workspace`
 */
export async function writeTrlBundle(
  source: BundleSource,
  options: BundleOptions,
): Promise<{
  files: { path: string; bytes: number }[];
  counts: Record<string, number>;
  baseModel: BundleModel;
  plan: PlanStep[];
  notes: string[];
  commands: string[];
}> {
  const config = options.paperScale ? paperScaled(source.config) : source.config;
  const notes = [...source.notes];
  if (options.paperScale)
    notes.push('Paper-scale settings: lr 5e-7, max_length 2048, max_prompt_length 1024, 512 new tokens.');
  assertSupportedLoss(config);
  if (config.generation.guided && config.generation.guidedFormat === 'chat') {
    notes.push(
      'The run writes its guided prompt in the model’s chat template (guidedFormat chat); the bundle’s generation uses gen-drift.py’s plain layout, as the paper does.',
    );
  }
  const outDir = options.outDir;
  await ensureEmpty(outDir, options.overwrite);

  // Data: DRIFT's files, written as the pairs stream by.
  const writers = {
    dsat: await JsonlWriter.open(path.join(outDir, DATA.dsat)),
    seed: [] as ReturnType<typeof preferenceRow>[],
    sat: await JsonlWriter.open(path.join(outDir, DATA.sat)),
  };
  const ids = { dsat: [] as string[], seed: [] as string[], sat: [] as string[] };
  try {
    for await (const pair of source.pairs) {
      options.signal?.throwIfAborted();
      await writers.dsat.write(driftDsatRow(pair));
      ids.dsat.push(pair.id);
      const seed = preferenceRow(pair);
      if (seed) {
        writers.seed.push(seed);
        ids.seed.push(pair.id);
      }
      if (ids.dsat.length % 1000 === 0) options.onProgress?.('writing data', ids.dsat.length, 0);
    }
    if (source.satRecords) {
      for await (const record of source.satRecords) {
        await writers.sat.write(driftSatRow(record));
        ids.sat.push(record.id);
      }
    }
    await writers.dsat.commit();
    await writers.sat.commit();
  } catch (error) {
    await writers.dsat.abort();
    await writers.sat.abort();
    throw error;
  }
  const seedTest = testCount(writers.seed.length, config.testSize, config.testFraction);
  const seedRows = (rows: unknown[]) => rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  await writeFileAtomic(path.join(outDir, DATA.seedTest), seedRows(writers.seed.slice(0, seedTest)));
  await writeFileAtomic(path.join(outDir, DATA.seedTrain), seedRows(writers.seed.slice(seedTest)));
  const counts = {
    dsat: ids.dsat.length,
    seedPairs: writers.seed.length,
    seedTrain: writers.seed.length - seedTest,
    seedTest,
    sat: ids.sat.length,
  };
  if ((config.method === 'drift' || config.method === 'iterdpo') && counts.dsat === 0)
    throw new AppFailure('export_unsupported', `The pair set has no DSAT pairs for ${config.method} to sample from.`);
  if (config.method === 'spin' && counts.sat === 0)
    throw new AppFailure('export_unsupported', 'SPIN needs SAT records (its chosen answers); the dataset has none.');
  if (config.method === 'dpo' && counts.seedTrain === 0)
    throw new AppFailure('export_unsupported', 'Offline DPO trains on seed pairs; the pair set has none to train on.');

  // Models: a hub id or a path as given; a local folder copied into the bundle.
  const place = async (model: ModelSource, folder: string): Promise<BundleModel> => {
    if (model.kind !== 'copy') return model;
    options.onProgress?.('copying model', 0, 1);
    await copyFolder(model.folder, path.join(outDir, folder), options.signal);
    return { kind: 'path', reference: folder };
  };
  const baseModel = await place(source.baseModel, 'base-model');
  const judgeModel = source.judgeModel === null ? null : await place(source.judgeModel, 'judge-model');

  const steps = plan(config, counts.seedTrain, baseModel, notes);
  const text: [string, string][] = [];
  for (const step of steps) {
    const fixed = step.kind === 'train-fixed';
    const trainFile = fixed ? DATA.seedTrain : `work/iter-${step.iteration}/train.jsonl`;
    const evalFile = fixed ? DATA.seedTest : `work/iter-${step.iteration}/test.jsonl`;
    const hasEval = fixed ? counts.seedTest > 0 : true;
    const document = {
      drift: {
        iteration: step.iteration,
        model: { kind: step.policy.kind, reference: step.policy.reference },
        train_file: trainFile,
        eval_file: evalFile,
        max_prompt_length: config.hyperparameters.maxPromptLength,
      },
      dpo: dpoArguments(config, step, hasEval),
    };
    const what = step.iteration === 0 ? 'seed warm start (reference: the base model)' : `iteration ${step.iteration}`;
    text.push([
      step.config,
      toYaml(document, [
        `${config.name}: ${config.method}, ${what}. Written by drift-wb ${APP_VERSION} for TRL's DPOConfig.`,
        'The reference model is a frozen copy of the starting policy (pi_ref = pi_{k-1}).',
      ]),
    ]);
  }
  text.push(['configs/accelerate/zero3.yaml', accelerateConfig('zero3', options.gpusPerNode)]);
  text.push(['configs/accelerate/fsdp.yaml', accelerateConfig('fsdp', options.gpusPerNode)]);
  text.push(['slurm/drift.sbatch', sbatch(config, options)]);
  text.push(['requirements.txt', REQUIREMENTS]);
  text.push(['requirements-vllm.txt', REQUIREMENTS_VLLM]);
  for (const [name, body] of Object.entries(TRL_TEMPLATES)) text.push([name, body]);

  const commands = [
    'pip install -r requirements.txt   # optional: pip install -r requirements-vllm.txt',
    'python drift_driver.py --dry-run',
    `python drift_driver.py --num-processes ${options.gpusPerNode}`,
    ...(options.nodes > 1 ? ['sbatch slurm/drift.sbatch'] : []),
  ];
  const bundle = {
    format: BUNDLE_FORMAT,
    formatVersion: 1,
    engineVersion: APP_VERSION,
    createdAt: new Date().toISOString(),
    runId: source.runId,
    run: config,
    pairSet: source.pairSet,
    baseModel,
    judgeModel,
    accelerate: options.accelerate,
    data: DATA,
    counts,
    ids,
    plan: steps,
    notes,
  };
  text.push([BUNDLE_FILE, `${JSON.stringify(bundle, null, 2)}\n`]);
  text.push(['README.md', readme(config, source, counts, baseModel, steps, notes, commands, options)]);
  for (const [name, body] of text) {
    await mkdir(path.dirname(path.join(outDir, name)), { recursive: true });
    await writeFileAtomic(path.join(outDir, name), body);
  }
  await chmod(path.join(outDir, 'drift_driver.py'), 0o755);
  await chmod(path.join(outDir, 'slurm/drift.sbatch'), 0o755);
  return { files: await listFiles(outDir), counts, baseModel, plan: steps, notes, commands };
}

async function listFiles(root: string, folder = ''): Promise<{ path: string; bytes: number }[]> {
  const files: { path: string; bytes: number }[] = [];
  for (const entry of (await readdir(path.join(root, folder), { withFileTypes: true })).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    const relative = folder === '' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) files.push({ path: relative, bytes: (await stat(path.join(root, relative))).size });
  }
  return files;
}

/* --------------------------------------------------------------- fixed files */

// TRL is pinned: the configs use its current DPO API (loss_type list + loss_weights; no
// rpo_alpha, no max_prompt_length). The rest float within ranges TRL supports; drift_train.py
// records the versions each iteration ran with in outputs/iter-<k>/drift_done.json.
const REQUIREMENTS = `# DRIFT Workbench TRL bundle. The DPO configs are written for this TRL release's API.
trl==1.9.0
transformers>=4.56
accelerate>=1.4
datasets>=3.0
deepspeed>=0.16
torch>=2.4
pyyaml>=6.0
`;

const REQUIREMENTS_VLLM = `# Optional: faster generation of on-policy samples (drift_generate.py uses it when installed).
# vLLM pins its own torch; install it in the same environment only if the versions agree.
vllm>=0.10
`;

/** accelerate's config for one node of `gpus` processes (the driver overrides machines and ranks under Slurm). */
export function accelerateConfig(kind: 'zero3' | 'fsdp', gpus: number): string {
  const common = {
    compute_environment: 'LOCAL_MACHINE',
    debug: false,
    downcast_bf16: 'no',
    machine_rank: 0,
    main_training_function: 'main',
    mixed_precision: 'bf16',
    num_machines: 1,
    num_processes: gpus,
    rdzv_backend: 'static',
    same_network: true,
    use_cpu: false,
  };
  if (kind === 'zero3') {
    return toYaml(
      {
        ...common,
        distributed_type: 'DEEPSPEED',
        deepspeed_config: {
          deepspeed_multinode_launcher: 'standard',
          offload_optimizer_device: 'none',
          offload_param_device: 'none',
          zero3_init_flag: true,
          // Gathers the sharded weights so save_model writes a loadable HF folder.
          zero3_save_16bit_model: true,
          zero_stage: 3,
        },
      },
      ['DeepSpeed ZeRO-3 (as alignment-handbook recipes/accelerate_configs/zero3.yaml).'],
    );
  }
  return toYaml(
    {
      ...common,
      distributed_type: 'FSDP',
      fsdp_config: {
        fsdp_auto_wrap_policy: 'TRANSFORMER_BASED_WRAP',
        fsdp_backward_prefetch: 'BACKWARD_PRE',
        fsdp_cpu_ram_efficient_loading: true,
        fsdp_forward_prefetch: false,
        fsdp_offload_params: false,
        fsdp_sharding_strategy: 'FULL_SHARD',
        // A full state dict so save_model writes a loadable HF folder.
        fsdp_state_dict_type: 'FULL_STATE_DICT',
        fsdp_sync_module_states: true,
        fsdp_use_orig_params: true,
      },
    },
    ['FSDP full sharding (as alignment-handbook recipes/accelerate_configs/fsdp.yaml).'],
  );
}

function sbatch(config: RunConfig, options: BundleOptions): string {
  const name = config.name.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60) || 'drift';
  return `#!/bin/bash
# ${config.name}: ${config.method} on ${options.nodes} node(s) x ${options.gpusPerNode} GPU(s).
# Submit from the bundle folder: sbatch slurm/drift.sbatch
# The driver runs on the first node: generation there (vLLM across its GPUs), and each DPO step
# srun'd on every node as one accelerate launch (machine rank = SLURM_PROCID).
#SBATCH --job-name=drift-${name}
#SBATCH --nodes=${options.nodes}
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=${options.gpusPerNode}
#SBATCH --exclusive
#SBATCH --time=48:00:00
#SBATCH --output=slurm/%x-%j.out
set -euo pipefail
cd "\${SLURM_SUBMIT_DIR:-.}"
export GPUS_PER_NODE=${options.gpusPerNode}
export MASTER_ADDR="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
export MASTER_PORT="\${MASTER_PORT:-29500}"
python3 drift_driver.py --launcher slurm --tensor-parallel "$GPUS_PER_NODE" "$@"
`;
}

function readme(
  config: RunConfig,
  source: BundleSource,
  counts: Record<string, number>,
  baseModel: BundleModel,
  steps: PlanStep[],
  notes: string[],
  commands: string[],
  options: BundleOptions,
): string {
  const hyper = config.hyperparameters;
  const lossNote =
    hyper.rpoAlpha > 0
      ? `loss_type ["${hyper.loss}", "sft"] with loss_weights [1, ${hyper.rpoAlpha}] (the RPO NLL term; TRL removed rpo_alpha in 0.29)`
      : `loss_type ["${hyper.loss}"]`;
  const base =
    baseModel.kind === 'hub'
      ? `the Hugging Face hub id \`${baseModel.reference}\` (downloaded on the cluster)`
      : path.isAbsolute(baseModel.reference)
        ? `the path \`${baseModel.reference}\` (it must exist on the cluster)`
        : `\`${baseModel.reference}/\`, a copy of the workspace model inside this bundle`;
  return `# ${config.name}: ${config.method} with TRL

Compiled by DRIFT Workbench ${APP_VERSION}${source.runId ? ` from run \`${source.runId}\`` : ''}${
    source.pairSet ? ` on pair set \`${source.pairSet.id}\`` : ''
  }.
The workbench does not train here: this folder is a recipe for Hugging Face TRL with accelerate
(DeepSpeed ZeRO-3 or FSDP). Run it, then bring the results back with \`drift-wb import-run <this folder>\`.

## Run

\`\`\`
${commands.join('\n')}
\`\`\`

\`--dry-run\` needs only Python 3: it checks the data files against DRIFT's and TRL's schemas and prints
every command (generation, pair building, \`accelerate launch\` per iteration) without running one.
The driver is resumable: an iteration with \`outputs/iter-<k>/drift_done.json\` is skipped, and within
an unfinished one a step whose output exists is not redone. Use \`--accelerate-config fsdp\` for FSDP
(default: ${options.accelerate}); \`--generation-backend transformers\` when vLLM is not wanted.

## Plan

| iteration | what | policy in | output |
|---|---|---|---|
${steps
  .map(
    (step) =>
      `| ${step.iteration} | ${step.kind === 'generate' ? `generate (${config.method}) → pairs → DPO` : step.iteration === 0 ? 'seed warm start: DPO on seed pairs' : 'DPO on seed pairs'} | ${step.policy.reference} | ${step.output} |`,
  )
  .join('\n')}

Each DPO step starts from the previous iteration's policy, which is also its frozen reference
(π_ref = π_{k−1}, as DRIFT's configs). Settings: β ${hyper.beta}, ${lossNote}, lr ${hyper.learningRate}
(${hyper.schedule}, warmup ${hyper.warmupRatio}), ${hyper.optimizer}, batch ${hyper.batchSize} × accumulation
${hyper.gradientAccumulation} per device, max_length ${hyper.maxLength}, epochs ${hyper.seedEpochs} (seed) / ${hyper.iterationEpochs} (iterations), seed ${config.seed}.
Overlong prompts (over ${hyper.maxPromptLength} tokens) are filtered out before training, as TRL recommends
now that max_prompt_length is gone. Edit \`configs/dpo/iter-<k>.yaml\` to change them; the \`dpo\` section is
passed to \`trl.DPOConfig\` as it is.

## Generation (gen-drift.py, drift-paper.md §1.3)

The conversation is flattened as \`User:\`/\`Assistant:\` text (no chat template), DRIFT appends the DSAT
response, the user's feedback and the line "System: Based on the user's latest feedback, please provide an
improved response that addresses their concerns.", and ends with \`Assistant: \`. The input is truncated at
2048 tokens; the response is the text after the last \`Assistant: \` of the decoded prompt and completion.
Sampling: temperature ${config.generation.temperature}, top_p ${config.generation.topP}, ${config.generation.maxNewTokens} new tokens,
${config.generation.samples} sample(s) per prompt${config.generation.guided ? '' : ' (unguided: the plain context only)'}.
SPIN samples its rejected answers from the plain context of each SAT record; IterDPO draws ${config.candidates}
candidates (half guided when guidance is on) and keeps the best and worst by the ${config.judge.kind} judge.
vLLM is used when it is installed, else transformers' \`generate\`.

## Base model

The base policy is ${base}. A workspace model is named by its hub id when it was imported from a
hub-named folder (a Hugging Face cache folder \`models--<org>--<name>\`, or a config.json whose
\`_name_or_path\` is a hub id); otherwise it is copied into \`base-model/\`. \`drift-wb export --base-hub ID\`
or \`--base-path PATH\` chooses explicitly.

## Data (\`data/\`)

- \`dsat_data.jsonl\` (${counts['dsat']} rows): \`{prompt, rejected, user_preference}\`, as gen-drift.py reads them.
- \`seed-data/train.jsonl\` (${counts['seedTrain']}) and \`seed-data/test.jsonl\` (${counts['seedTest']}): \`{prompt, chosen, rejected}\`.
- \`sat_data.jsonl\` (${counts['sat']}): \`{prompt, chosen}\`.

Every message is \`{role, content}\`; pairs built on the cluster (\`work/iter-<k>/train.jsonl\`, \`test.jsonl\`) use TRL's
conversational preference format (prompt/chosen/rejected lists of messages).
${notes.length > 0 ? `\n## Notes\n\n${notes.map((note) => `- ${note}`).join('\n')}\n` : ''}
## Bringing the results back

\`drift-wb import-run <this folder>\` reads \`outputs/iter-<k>/\` (the HF checkpoint and \`trainer_state.json\`),
adds a run with its metrics (TRL's names) and registers each iteration's model in the workspace.
`;
}
