/**
 * Reward models: a decoder with a scalar head, HF's `*ForSequenceClassification` with one label
 * (transformers modeling_llama.py `LlamaForSequenceClassification`): reward = score(h_last) where
 * h_last is the final hidden state (after the final norm) of the sequence's last non-padding token,
 * and `score.weight` is [num_labels = 1, hidden] without bias. A reward model scores a conversation
 * rendered with the chat template, the response as the last assistant turn.
 *
 * Reward functions are the one interface evaluation takes: a reward model, or a gold checker (the
 * simulated deployment's) plugs in as a {@link RewardFunction}.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Tensor1D, Tensor2D, Tensor3D, Variable } from '@tensorflow/tfjs';
import { AppFailure } from '../../api/index.js';
import { tf } from '../compute/tf.js';
import type { CausalLanguageModel, ModelConfig, SafetensorsFile, TensorToWrite } from '../model/index.js';
import {
  createModel,
  hfShape,
  parseSafetensors,
  readHfConfig,
  serializeSafetensors,
  toHfConfig,
} from '../model/index.js';

import type { ChatFormat, ChatMessage, Tokenizer } from '../text/index.js';
import { DEFAULT_CHAT_TEMPLATE, applyChatTemplate, loadOptionalTokenizer } from '../text/index.js';
import { writeFileAtomic, pathExists } from '../workspace/atomic.js';
import { resolveInside } from '../workspace/layout.js';
import { rightPadded } from './embeddings.js';

/**
 * Scores responses: `responses[i]` answers the conversation `prompts[i]`; one reward per response,
 * higher is better. Called with batches; it must not keep tensors alive between calls.
 */
export type RewardFunction = (
  prompts: readonly (readonly ChatMessage[])[],
  responses: readonly string[],
) => Promise<number[]>;

/** The sequence-classification architectures the loader reads, and the causal decoder each wraps. */
const SEQUENCE_CLASSIFICATION: Readonly<Record<string, string>> = {
  LlamaForSequenceClassification: 'LlamaForCausalLM',
  MistralForSequenceClassification: 'MistralForCausalLM',
  Qwen2ForSequenceClassification: 'Qwen2ForCausalLM',
  Qwen3ForSequenceClassification: 'Qwen3ForCausalLM',
  GPT2ForSequenceClassification: 'GPT2LMHeadModel',
};

/** The head's HF tensor name. */
export const SCORE_WEIGHT = 'score.weight';

export interface RewardModelOptions {
  /** Tokens read per conversation; longer ones keep their end (the response). Default 512, never past the context. */
  maxLength?: number;
  /** Conversations per forward pass when scoring. Default 8. */
  batchSize?: number;
}

export interface CreateRewardModelOptions extends RewardModelOptions {
  /** Seeds the head's initial weights (normal(0, initializer_range), HF `_init_weights`). Default 0. */
  seed?: number;
}

/** A decoder and a scalar head; owns both (dispose frees them). */
export class RewardModel {
  readonly maxLength: number;
  readonly batchSize: number;
  private readonly format: ChatFormat;

  private constructor(
    readonly backbone: CausalLanguageModel,
    /** (1, d), HF's layout [num_labels, hidden]. */
    readonly score: Variable,
    readonly tokenizer: Tokenizer,
    options: RewardModelOptions,
  ) {
    this.maxLength = Math.min(options.maxLength ?? 512, backbone.config.maxPositionEmbeddings);
    this.batchSize = options.batchSize ?? 8;
    this.format = tokenizer.chatFormat ?? {
      template: DEFAULT_CHAT_TEMPLATE,
      eosToken: tokenizer.specialTokens.eos?.content ?? null,
    };
  }

  /** A reward model over `backbone` (taken over: dispose the reward model, not the backbone) with a fresh head. */
  static create(
    backbone: CausalLanguageModel,
    tokenizer: Tokenizer,
    options: CreateRewardModelOptions = {},
  ): RewardModel {
    const hidden = backbone.config.hiddenSize;
    const initial = tf.randomNormal([1, hidden], 0, backbone.config.initializerRange, 'float32', options.seed ?? 0);
    const score = tf.variable(initial, true);
    initial.dispose();
    return new RewardModel(backbone, score, tokenizer, options);
  }

  /** Wraps loaded parts (the loader's constructor). */
  static fromParts(
    backbone: CausalLanguageModel,
    score: Variable,
    tokenizer: Tokenizer,
    options: RewardModelOptions = {},
  ): RewardModel {
    return new RewardModel(backbone, score, tokenizer, options);
  }

  /** Every weight by HF name: the backbone's and `score.weight` (held [1, d], as in the file). */
  parameters(): Map<string, Variable> {
    return new Map([...this.backbone.parameters(), [SCORE_WEIGHT, this.score]]);
  }

  /**
   * The token ids of a conversation ending with `response` as an assistant turn, rendered with the
   * tokenizer's chat template (ChatML without one) and encoded without added special tokens (the
   * template writes them); cut to the last `maxLength` tokens.
   */
  encode(prompt: readonly ChatMessage[], response: string): number[] {
    const text = applyChatTemplate([...prompt, { role: 'assistant', content: response }], {
      ...this.format,
      addGenerationPrompt: false,
    });
    const ids = this.tokenizer.encode(text, { addSpecialTokens: false });
    const kept = ids.length > this.maxLength ? ids.slice(ids.length - this.maxLength) : ids;
    return kept.length > 0 ? kept : [this.tokenizer.specialTokens.eos?.id ?? 0];
  }

  /**
   * Rewards (B) of token sequences, as tensors (for training inside a gradient tape): right-padded,
   * the head applied to each sequence's last real token.
   */
  rewards(sequences: readonly (readonly number[])[]): Tensor1D {
    return tf.tidy(() => {
      const { inputIds, attentionMask, lengths } = rightPadded(sequences);
      const [batch, time] = inputIds.shape;
      const { hiddenStates } = this.backbone.forward(inputIds, {
        attentionMask,
        outputHiddenStates: true,
        logitsToKeep: 1,
      });
      const states = hiddenStates as Tensor3D[];
      const last = states[states.length - 1] as Tensor3D; // (B, T, d)
      const hidden = last.shape[2];
      const rows = tf.range(0, batch, 1, 'int32').mul(tf.scalar(time, 'int32')); // (B)
      const positions = rows.add(lengths.sub(tf.scalar(1, 'int32'))); // (B) flat index of each last real token
      const final = tf.gather(last.reshape([batch * time, hidden]), positions) as Tensor2D; // (B, d)
      return tf.matMul(final, this.score, false, true).reshape([batch]) as Tensor1D; // (B)
    });
  }

  /** Rewards of responses to conversations, `batchSize` at a time. Leaves no tensor behind. */
  async scoreResponses(
    prompts: readonly (readonly ChatMessage[])[],
    responses: readonly string[],
    signal?: AbortSignal,
  ): Promise<number[]> {
    if (prompts.length !== responses.length) {
      throw new AppFailure('model_input_invalid', `${prompts.length} prompts but ${responses.length} responses.`);
    }
    const rewards: number[] = [];
    for (let start = 0; start < responses.length; start += this.batchSize) {
      if (signal?.aborted) throw signal.reason;
      const sequences = responses
        .slice(start, start + this.batchSize)
        .map((response, offset) => this.encode(prompts[start + offset] as ChatMessage[], response));
      const values = this.rewards(sequences);
      rewards.push(...((await values.data()) as Float32Array));
      values.dispose();
    }
    return rewards;
  }

  /** This model as a {@link RewardFunction}. */
  rewardFunction(signal?: AbortSignal): RewardFunction {
    return (prompts, responses) => this.scoreResponses(prompts, responses, signal);
  }

  /**
   * Saves an HF folder transformers loads as `*ForSequenceClassification` with one label:
   * config.json (architectures, id2label, pad_token_id), model.safetensors (the backbone without
   * lm_head, and score.weight), and the tokenizer files.
   * @throws AppFailure `model_folder_exists` unless `overwrite`
   */
  async save(folder: string, options: { overwrite?: boolean } = {}): Promise<void> {
    if ((await pathExists(folder)) && options.overwrite !== true) {
      throw new AppFailure('model_folder_exists', `${folder} already exists.`, { folder });
    }
    const config = this.backbone.config;
    const causal = toHfConfig(config) as Record<string, unknown>;
    const causalName = (causal.architectures as string[] | undefined)?.[0] ?? '';
    const architecture = Object.keys(SEQUENCE_CLASSIFICATION).find(
      (name) => SEQUENCE_CLASSIFICATION[name] === causalName,
    );
    const padTokenId =
      config.padTokenId ?? this.tokenizer.specialTokens.pad?.id ?? this.tokenizer.specialTokens.eos?.id;
    const hfConfig = {
      ...causal,
      architectures: [architecture],
      id2label: { '0': 'LABEL_0' },
      label2id: { LABEL_0: 0 },
      ...(padTokenId === undefined ? {} : { pad_token_id: padTokenId }),
    };
    const parameters = this.backbone.parameters();
    const tensors: TensorToWrite[] = [];
    for (const spec of this.backbone.specs) {
      if (spec.name === 'lm_head.weight') continue;
      const variable = parameters.get(spec.name) as Variable;
      const values = tf.tidy(() => (spec.transposed ? tf.transpose(variable) : variable.clone()));
      tensors.push({ name: spec.name, shape: hfShape(spec), data: (await values.data()) as Float32Array });
      values.dispose();
    }
    tensors.push({ name: SCORE_WEIGHT, shape: [...this.score.shape], data: (await this.score.data()) as Float32Array });
    tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    await mkdir(folder, { recursive: true });
    await writeFileAtomic(path.join(folder, 'model.safetensors'), serializeSafetensors(tensors, { format: 'pt' }));
    await writeFileAtomic(path.join(folder, 'config.json'), `${JSON.stringify(hfConfig, null, 2)}\n`);
    await this.tokenizer.save(folder);
  }

  dispose(): void {
    this.backbone.dispose();
    if (!this.score.isDisposed) this.score.dispose();
  }
}

/**
 * Loads a local HF sequence-classification reward model (Llama, Mistral, Qwen2, Qwen3, GPT-2
 * families with a one-label `score` head), its weights from model.safetensors or a sharded index,
 * and its tokenizer.
 * @throws AppFailure `model_folder_invalid`, `model_config_invalid`, `model_unsupported_architecture`
 * (not a sequence-classification model, or more than one label), `model_weights_mismatch`,
 * `safetensors_invalid`, `model_tokenizer_missing`
 */
export async function loadRewardModel(
  folder: string,
  options: RewardModelOptions & { trainable?: boolean } = {},
): Promise<RewardModel> {
  const config = await readRewardConfig(folder);
  const files = await readWeights(folder);
  const tokenizer = await loadOptionalTokenizer(folder);
  if (tokenizer === null) {
    throw new AppFailure('model_tokenizer_missing', `${folder} has no tokenizer, so responses cannot be encoded.`);
  }
  const mismatch = (message: string, tensor: string) => new AppFailure('model_weights_mismatch', message, { tensor });
  const scoreFile = files.get(SCORE_WEIGHT);
  const scoreEntry = scoreFile?.tensors.get(SCORE_WEIGHT);
  if (scoreFile === undefined || scoreEntry === undefined) {
    throw mismatch(`The weights lack "${SCORE_WEIGHT}", the reward head.`, SCORE_WEIGHT);
  }
  if (scoreEntry.shape.length !== 2 || scoreEntry.shape[1] !== config.hiddenSize) {
    throw mismatch(
      `"${SCORE_WEIGHT}" has shape [${scoreEntry.shape.join(', ')}]; expected [1, ${config.hiddenSize}].`,
      SCORE_WEIGHT,
    );
  }
  if (scoreEntry.shape[0] !== 1) {
    throw new AppFailure(
      'model_unsupported_architecture',
      `The head has ${scoreEntry.shape[0]} labels; a reward model has one (num_labels = 1).`,
      { field: 'num_labels' },
    );
  }
  const trainable = options.trainable ?? false;
  const backbone = createModel(config, { trainable });
  let score: Variable | undefined;
  try {
    const used = new Set<string>([SCORE_WEIGHT]);
    for (const spec of backbone.specs) {
      const candidates = config.family === 'gpt2' ? [spec.name, spec.name.replace(/^transformer\./, '')] : [spec.name];
      const name = candidates.find((candidate) => files.has(candidate));
      if (name === undefined) throw mismatch(`The weights lack "${spec.name}", which the config implies.`, spec.name);
      const entry = files.get(name)?.tensors.get(name);
      const expected = hfShape(spec);
      if (entry === undefined || entry.shape.join(',') !== expected.join(',')) {
        throw mismatch(
          `"${name}" has shape [${entry?.shape.join(', ')}]; the config implies [${expected.join(', ')}].`,
          spec.name,
        );
      }
      const values = (files.get(name) as SafetensorsFile).readFloat32(name);
      const variable = backbone.parameters().get(spec.name) as Variable;
      tf.tidy(() => {
        const value = tf.tensor(values, expected, 'float32');
        variable.assign(spec.transposed ? tf.transpose(value) : value);
      });
      used.add(name);
    }
    const unexpected = [...files.keys()].filter(
      (name) =>
        !used.has(name) && name !== 'lm_head.weight' && !/\.attn\.(masked_)?bias$|rotary_emb\.inv_freq$/.test(name),
    );
    if (unexpected.length > 0) {
      throw mismatch(
        `The weights hold tensors the config does not imply: ${unexpected.slice(0, 5).join(', ')}.`,
        unexpected[0] as string,
      );
    }
    score = tf.variable(tf.tensor2d(scoreFile.readFloat32(SCORE_WEIGHT), [1, config.hiddenSize]), trainable);
    return RewardModel.fromParts(backbone, score, tokenizer, options);
  } catch (error) {
    backbone.dispose();
    score?.dispose();
    throw error;
  }
}

/**
 * The typed config of a sequence-classification folder: its decoder's config, with tied embeddings
 * (a classifier has no lm_head, so none is expected).
 */
async function readRewardConfig(folder: string): Promise<ModelConfig> {
  const file = path.join(folder, 'config.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof SyntaxError) {
      throw new AppFailure('model_config_invalid', `${file} is not valid JSON (${error.message}).`, { file });
    }
    throw new AppFailure('model_folder_invalid', `${folder} has no readable config.json.`, { folder });
  }
  const architectures = Array.isArray(json.architectures) ? (json.architectures as unknown[]) : [];
  const architecture = architectures.find(
    (name): name is string => typeof name === 'string' && name in SEQUENCE_CLASSIFICATION,
  );
  if (architecture === undefined) {
    throw new AppFailure(
      'model_unsupported_architecture',
      `${file} does not describe a reward model: architectures must name one of ` +
        `${Object.keys(SEQUENCE_CLASSIFICATION).join(', ')}.`,
      { supported: Object.keys(SEQUENCE_CLASSIFICATION) },
    );
  }
  try {
    return readHfConfig({ ...json, architectures: [SEQUENCE_CLASSIFICATION[architecture]], tie_word_embeddings: true });
  } catch (error) {
    if (error instanceof AppFailure) throw new AppFailure(error.code, `${file}: ${error.message}`, error.details);
    throw error;
  }
}

/** Tensor name → the parsed file holding it (model.safetensors, or every shard of the index). */
async function readWeights(folder: string): Promise<Map<string, SafetensorsFile>> {
  const byName = new Map<string, SafetensorsFile>();
  const add = (file: SafetensorsFile) => {
    for (const name of file.tensors.keys()) byName.set(name, file);
  };
  const single = path.join(folder, 'model.safetensors');
  if (await pathExists(single)) {
    add(parseSafetensors(await readFile(single), single));
    return byName;
  }
  const indexFile = path.join(folder, 'model.safetensors.index.json');
  if (!(await pathExists(indexFile))) {
    throw new AppFailure(
      'model_folder_invalid',
      `${folder} has no model.safetensors or model.safetensors.index.json.`,
      {
        folder,
      },
    );
  }
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(await readFile(indexFile, 'utf8')) as { weight_map?: unknown }).weight_map;
  } catch {
    weightMap = undefined;
  }
  if (
    typeof weightMap !== 'object' ||
    weightMap === null ||
    !Object.values(weightMap).every((v) => typeof v === 'string')
  ) {
    throw new AppFailure('model_folder_invalid', `${indexFile} has no weight_map of tensor name → file name.`, {
      file: indexFile,
    });
  }
  for (const shard of new Set(Object.values(weightMap as Record<string, string>))) {
    const shardPath = resolveInside(folder, shard);
    add(parseSafetensors(await readFile(shardPath), shardPath));
  }
  return byName;
}
