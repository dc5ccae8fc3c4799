import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { AppFailure } from '../../../src-main/api/index.js';
import {
  DEFAULT_CHAT_TEMPLATE,
  applyChatTemplate,
  extractAfterLastAssistantMarker,
  pythonStrip,
  renderGuidedPrompt,
  renderPromptAndCompletion,
} from '../../../src-main/engine/text/chat.js';
import type { ChatMessage } from '../../../src-main/engine/text/chat.js';
import { sharedTokenizerFolder, skipReason } from './helpers.js';

/**
 * The chat template of Qwen2.5-Instruct (tokenizer_config.json of Qwen/Qwen2.5-0.5B-Instruct,
 * Apache-2.0), without its tool-calling branches: ChatML with a default system message.
 */
const QWEN25_TEMPLATE =
  "{%- if messages[0]['role'] == 'system' %}" +
  "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
  '{%- else %}' +
  "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}" +
  '{%- endif %}' +
  '{%- for message in messages %}' +
  "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or (message.role == 'assistant') %}" +
  "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}" +
  '{%- endif %}' +
  '{%- endfor %}' +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/**
 * The chat template of meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json, which
 * ../shared/realmodels/tokenizers/llama2/tokenizer_config.json (the base model's) does not carry;
 * the same text was transformers' `LlamaTokenizer.default_chat_template` (Apache-2.0) without the
 * default system prompt.
 */
const LLAMA2_CHAT_TEMPLATE =
  "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}" +
  '{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}' +
  '{% for message in loop_messages %}' +
  "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}" +
  "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}" +
  "{% else %}{% set content = message['content'] %}{% endif %}" +
  "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}" +
  "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}" +
  '{% endfor %}';

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is 2+2?' },
  { role: 'assistant', content: '5' },
  { role: 'user', content: 'Really?' },
];

describe('applyChatTemplate', () => {
  it('renders the built-in ChatML template, with and without the generation prompt', () => {
    const messages = conversation.slice(1, 3);
    expect(applyChatTemplate(messages, { template: DEFAULT_CHAT_TEMPLATE })).toBe(
      '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n5<|im_end|>\n',
    );
    expect(
      applyChatTemplate(messages.slice(0, 1), { template: DEFAULT_CHAT_TEMPLATE, addGenerationPrompt: true }),
    ).toBe('<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n');
  });

  it("renders Qwen2.5's template, including its default system message", () => {
    expect(applyChatTemplate(conversation, { template: QWEN25_TEMPLATE, addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n' +
        '<|im_start|>user\nWhat is 2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n5<|im_end|>\n' +
        '<|im_start|>user\nReally?<|im_end|>\n' +
        '<|im_start|>assistant\n',
    );
    expect(applyChatTemplate([{ role: 'user', content: 'Hi' }], { template: QWEN25_TEMPLATE })).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
        '<|im_start|>user\nHi<|im_end|>\n',
    );
  });

  it.skipIf(skipReason('llama2') !== null)(
    `renders the Llama-2 chat template with the special tokens of the Llama-2 tokenizer_config.json ${skipReason('llama2') ?? ''}`,
    async () => {
      const config = JSON.parse(
        await readFile(`${sharedTokenizerFolder('llama2')}/tokenizer_config.json`, 'utf8'),
      ) as Record<string, { content: string }>;
      const bosToken = config['bos_token']?.content;
      const eosToken = config['eos_token']?.content;
      expect([bosToken, eosToken]).toEqual(['<s>', '</s>']);
      expect(applyChatTemplate(conversation, { template: LLAMA2_CHAT_TEMPLATE, bosToken, eosToken })).toBe(
        '<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST] 5 </s><s>[INST] Really? [/INST]',
      );
    },
  );

  it('turns raise_exception and syntax errors into chat_template_invalid', () => {
    const swapped = [
      { role: 'assistant', content: 'a' },
      { role: 'user', content: 'b' },
    ];
    const failure = captureFailure(() => applyChatTemplate(swapped, { template: LLAMA2_CHAT_TEMPLATE }));
    expect(failure.code).toBe('chat_template_invalid');
    expect(failure.message).toContain('Conversation roles must alternate');
    expect(captureFailure(() => applyChatTemplate([], { template: '{% for %}' })).code).toBe('chat_template_invalid');
  });
});

describe('renderGuidedPrompt (gen-drift.py, drift-paper.md §1.3)', () => {
  it('renders the guided prompt character for character, ending with "Assistant: "', () => {
    const context: ChatMessage[] = [
      { role: 'system', content: 'You are helpful.' },
      { role: 'user', content: 'Sum 2 and 2.' },
      { role: 'assistant', content: 'It is 22.' },
      { role: 'system', content: 'A second system message is dropped.' },
      { role: 'tool', content: 'Other roles are dropped.' },
      { role: 'user', content: 'No, add them.' },
    ];
    const prompt = renderGuidedPrompt(context, 'It is 5.', 'Wrong again, it is 4.', { guided: true });
    expect(prompt).toBe(
      'You are helpful.\n\n' +
        'User: Sum 2 and 2.\n' +
        'Assistant: It is 22.\n' +
        'User: No, add them.\n' +
        'Assistant: It is 5.\n' +
        'User: Wrong again, it is 4.\n' +
        "System: Based on the user's latest feedback, please provide an improved response that addresses their concerns.\n" +
        'Assistant: ',
    );
  });

  it('omits the system block when there is no system message, and renders the unguided variant', () => {
    const context = [{ role: 'user', content: 'Hi' }];
    expect(renderGuidedPrompt(context, 'Yo', 'Be polite')).toBe(
      'User: Hi\nAssistant: Yo\nUser: Be polite\n' +
        "System: Based on the user's latest feedback, please provide an improved response that addresses their concerns.\n" +
        'Assistant: ',
    );
    expect(renderGuidedPrompt(context, 'Yo', 'Be polite', { guided: false })).toBe('User: Hi\nAssistant: ');
  });
});

describe('extractAfterLastAssistantMarker', () => {
  it('keeps the text after the last "Assistant: ", stripped, or the whole text without the marker', () => {
    const decoded = 'User: Hi\nAssistant: bad\nUser: fix it\nAssistant:  Better answer. \n';
    expect(extractAfterLastAssistantMarker(decoded)).toBe('Better answer.');
    expect(extractAfterLastAssistantMarker('Assistant: one Assistant: two')).toBe('two');
    expect(extractAfterLastAssistantMarker('  no marker here\n')).toBe('no marker here');
    // "Assistant:" without the space is not the marker.
    expect(extractAfterLastAssistantMarker('Assistant:x')).toBe('Assistant:x');
  });

  it("strips what Python's str.strip() strips, not what JavaScript's trim() strips", () => {
    expect(pythonStrip('\x1c\x85 text \u3000')).toBe('text');
    expect(pythonStrip('\ufefftext')).toBe('\ufefftext');
  });
});

describe('renderPromptAndCompletion', () => {
  const context = conversation.slice(0, 2);

  it('splits ChatML so the completion is the assistant content and <|im_end|>', () => {
    const split = renderPromptAndCompletion(context, '4', { template: QWEN25_TEMPLATE, eosToken: '<|im_end|>' });
    expect(split).toEqual({
      prompt:
        '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n',
      completion: '4<|im_end|>',
    });
  });

  it('splits the Llama-2 template after [/INST], ending with </s>', () => {
    const split = renderPromptAndCompletion(context, 'Four.', {
      template: LLAMA2_CHAT_TEMPLATE,
      bosToken: '<s>',
      eosToken: '</s>',
    });
    expect(split.prompt).toBe('<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nWhat is 2+2? [/INST]');
    expect(split.completion).toBe(' Four. </s>');
  });

  it('appends the end-of-turn token when the template does not emit it', () => {
    const bare = "{% for m in messages %}{{ m.role + ': ' + m.content + '\\n' }}{% endfor %}";
    const split = renderPromptAndCompletion([{ role: 'user', content: 'q' }], 'a', {
      template: bare,
      eosToken: '<eos>',
    });
    expect(split).toEqual({ prompt: 'user: q\n', completion: 'assistant: a\n<eos>' });
  });

  it('refuses a template that renders the context differently once an answer follows', () => {
    const unstable = '{{ messages | length }}{% for m in messages %}{{ m.content }}{% endfor %}';
    const failure = captureFailure(() =>
      renderPromptAndCompletion([{ role: 'user', content: 'q' }], 'a', { template: unstable }),
    );
    expect(failure.code).toBe('chat_template_invalid');
  });
});

function captureFailure(action: () => unknown): AppFailure {
  try {
    action();
  } catch (error) {
    if (error instanceof AppFailure) return error;
    throw error;
  }
  throw new Error('expected an AppFailure');
}
