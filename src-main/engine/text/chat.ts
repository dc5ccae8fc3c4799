/**
 * Prompt rendering: chat templates from tokenizer_config.json (Jinja, rendered by
 * @huggingface/jinja, the implementation transformers.js uses), and the plain-text prompts of the
 * DRIFT recipe (reference/drift-paper.md §1.3, §1.4 and §7.1), which keeps two renderers apart: the
 * exact guided generation prompt of `gen-drift.py`, and the chat-template training prompt.
 */
import { Template } from '@huggingface/jinja';
import { AppFailure } from '../../api/index.js';

/** One turn of a conversation; any object with a role and a string content fits. */
export interface ChatMessage {
  role: string;
  content: string;
  /**
   * For supervised training only: 0 leaves this turn out of the loss (it is context, as axolotl's
   * per-message `weight`); absent or 1 trains on it when it is an assistant turn.
   */
  weight?: 0 | 1;
}

/**
 * ChatML (`<|im_start|>role\ncontent<|im_end|>\n`, as Qwen uses) without a default system
 * message: the template of the workbench's own models.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** A chat template and the special tokens it refers to. */
export interface ChatFormat {
  /** Jinja source, as in tokenizer_config.json's `chat_template`. */
  template: string;
  /** Passed to the template as `bos_token` (empty string when absent). */
  bosToken?: string | null;
  /** Passed as `eos_token`; also the token that ends an assistant turn in training completions. */
  eosToken?: string | null;
  /** Passed as `pad_token` and `unk_token`. */
  padToken?: string | null;
  unkToken?: string | null;
}

/** A chat format plus the per-call switches of `apply_chat_template`. */
export interface ApplyChatTemplateOptions extends ChatFormat {
  /** Ends the text with the opening of an assistant turn (`add_generation_prompt` in HF). */
  addGenerationPrompt?: boolean;
  /** More variables for the template (for example `tools`, `enable_thinking`). */
  variables?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();

/**
 * Renders `messages` with a Jinja chat template, as `tokenizer.apply_chat_template(messages,
 * tokenize=False)` does in transformers. Template errors (syntax, `raise_exception(...)`) are
 * thrown as `chat_template_invalid`.
 */
export function applyChatTemplate(messages: readonly ChatMessage[], options: ApplyChatTemplateOptions): string {
  let template = compiled.get(options.template);
  try {
    if (!template) {
      template = new Template(options.template);
      if (compiled.size >= 32) compiled.clear();
      compiled.set(options.template, template);
    }
    return template.render({
      ...options.variables,
      messages: messages.map((message) => ({ ...message })),
      add_generation_prompt: options.addGenerationPrompt ?? false,
      bos_token: options.bosToken ?? '',
      eos_token: options.eosToken ?? '',
      pad_token: options.padToken ?? '',
      unk_token: options.unkToken ?? '',
    });
  } catch (error) {
    if (error instanceof AppFailure) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new AppFailure('chat_template_invalid', `The chat template could not be rendered: ${reason}`);
  }
}

/** The instruction `gen-drift.py` appends before asking for the improved answer. */
export const DRIFT_IMPROVE_INSTRUCTION =
  "System: Based on the user's latest feedback, please provide an improved response that addresses their concerns.\n";

/** The marker after which `gen-drift.py` reads the generated answer. */
export const ASSISTANT_MARKER = 'Assistant: ';

/** Which of gen-drift.py's prompts to render. */
export interface GuidedPromptOptions {
  /**
   * true: DRIFT's guided prompt (context, the rejected answer, the user's feedback, the improve
   * instruction). false: the Unguided ablation of the camera-ready, which generates from the
   * context alone; its exact string is not published, so this renders the same plain-text layout
   * up to the context and then `Assistant: ` (an inference, drift-paper.md §1.3).
   */
  guided: boolean;
}

/**
 * The plain-text generation prompt of DRIFT's `gen-drift.py` (`collate_fn`), character for
 * character; no chat template is applied (drift-paper.md §1.3):
 *
 * ```
 * {first system message}\n\n     only if there is one; later system messages are dropped
 * User: {content}\n               every user / assistant turn of the context, in order
 * Assistant: {content}\n          (turns with other roles are dropped)
 * Assistant: {rejected}\n
 * User: {feedback}\n
 * System: Based on the user's latest feedback, please provide an improved response that addresses their concerns.\n
 * Assistant:
 * ```
 */
export function renderGuidedPrompt(
  context: readonly ChatMessage[],
  rejected: string,
  feedback: string,
  options: GuidedPromptOptions = { guided: true },
): string {
  let prompt = '';
  const system = context.find((message) => message.role === 'system');
  if (system) prompt += `${system.content}\n\n`;
  for (const message of context) {
    if (message.role === 'user') prompt += `User: ${message.content}\n`;
    else if (message.role === 'assistant') prompt += `Assistant: ${message.content}\n`;
  }
  if (options.guided) {
    prompt += `Assistant: ${rejected}\n`;
    prompt += `User: ${feedback}\n`;
    prompt += DRIFT_IMPROVE_INSTRUCTION;
  }
  return prompt + ASSISTANT_MARKER;
}

/**
 * `gen-drift.py`'s post-processing of `decode(prompt + completion, skip_special_tokens=True)`:
 * the text after the last `"Assistant: "`, stripped as Python's `str.strip()` strips; the whole
 * text, stripped, when the marker is missing.
 */
export function extractAfterLastAssistantMarker(text: string): string {
  const index = text.lastIndexOf(ASSISTANT_MARKER);
  return pythonStrip(index === -1 ? text : text.slice(index + ASSISTANT_MARKER.length));
}

/**
 * Python's `str.isspace()` set, which `str.strip()` removes. It differs from JavaScript's `trim()`:
 * Python also strips U+001C–U+001F and U+0085, and keeps U+FEFF.
 */
const PYTHON_WHITESPACE_RANGES: [number, number][] = [
  [0x09, 0x0d],
  [0x1c, 0x20],
  [0x85, 0x85],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
];
const PYTHON_WHITESPACE = new Set(
  PYTHON_WHITESPACE_RANGES.flatMap(([first, last]) =>
    Array.from({ length: last - first + 1 }, (_, offset) => String.fromCharCode(first + offset)),
  ),
);

/** Python's `str.strip()` with no argument. */
export function pythonStrip(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PYTHON_WHITESPACE.has(text.charAt(start))) start++;
  while (end > start && PYTHON_WHITESPACE.has(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/** A training example split where the loss mask starts. */
export interface PromptAndCompletion {
  /** The context rendered with the generation prompt (no loss on these tokens). */
  prompt: string;
  /** The assistant turn, ending with the end-of-turn token (the loss covers these tokens). */
  completion: string;
}

/**
 * Splits a training example for SFT/DPO into prompt and completion text, option (b) of
 * drift-paper.md §1.4: prompt = template(context, add_generation_prompt=true), completion = the
 * rest of template(context + assistant turn), as TRL's `maybe_apply_chat_template` computes it.
 * Unlike TRL, the completion is cut right after the end-of-turn token (`eosToken`), so a template's
 * trailing newline is not trained on, and the token is appended if the template does not emit
 * it: the model must learn to end its turn.
 */
export function renderPromptAndCompletion(
  context: readonly ChatMessage[],
  completion: string,
  format: ChatFormat,
): PromptAndCompletion {
  const prompt = applyChatTemplate(context, { ...format, addGenerationPrompt: true });
  const full = applyChatTemplate([...context, { role: 'assistant', content: completion }], {
    ...format,
    addGenerationPrompt: false,
  });
  if (!full.startsWith(prompt)) {
    throw new AppFailure(
      'chat_template_invalid',
      'The chat template renders the context differently when an assistant turn follows it, so the prompt and ' +
        'completion cannot be split.',
      { prompt, full },
    );
  }
  let rest = full.slice(prompt.length);
  const endOfTurn = format.eosToken ?? '';
  if (endOfTurn !== '') {
    const end = rest.lastIndexOf(endOfTurn);
    rest = end === -1 ? rest + endOfTurn : rest.slice(0, end + endOfTurn.length);
  }
  return { prompt, completion: rest };
}
