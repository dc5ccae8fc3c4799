/**
 * The last step of an import: conversations leave in file order once their language is known.
 * Languages are detected in batches on a second thread (language.ts) while the import goes on
 * parsing, so a few batches are in flight at a time; without that thread they are detected
 * inline. Each conversation is then counted in the tally and written.
 */
import type { Conversation, Message } from './schema.js';
import { languageSample, type LanguageDetector, type LanguageWorker } from './language.js';
import type { ImportTally } from './pipeline.js';
import type { JsonlWriter } from './writer.js';

const BATCH = 256;
/** Batches waiting for their languages; bounds memory to a few thousand conversations. */
const IN_FLIGHT = 3;

/** Where languages come from: the detection thread, or inline if it could not start. */
export type LanguageSource =
  { worker: LanguageWorker; inline?: undefined } | { worker?: undefined; inline: LanguageDetector };

function sampleOf(conversation: Conversation): string {
  const extra = [conversation.pair?.chosen, conversation.pair?.rejected, conversation.feedback];
  return languageSample(
    conversation.messages,
    extra.filter((message): message is Message => message !== undefined),
  );
}

export class ConversationSink {
  readonly #writer: JsonlWriter;
  readonly #tally: ImportTally;
  readonly #language: LanguageSource | null;
  #batch: Conversation[] = [];
  readonly #inFlight: { conversations: Conversation[]; codes: Promise<string[]> | null }[] = [];

  constructor(writer: JsonlWriter, tally: ImportTally, language: LanguageSource | null) {
    this.#writer = writer;
    this.#tally = tally;
    this.#language = language;
  }

  async add(conversation: Conversation): Promise<void> {
    this.#batch.push(conversation);
    if (this.#batch.length < BATCH) return;
    this.#send();
    await this.#drain(IN_FLIGHT);
  }

  /** Writes everything added so far. */
  async flush(): Promise<void> {
    this.#send();
    await this.#drain(0);
  }

  #send(): void {
    if (this.#batch.length === 0) return;
    const conversations = this.#batch;
    this.#batch = [];
    const worker = this.#language?.worker;
    this.#inFlight.push({ conversations, codes: worker ? worker.detect(conversations.map(sampleOf)) : null });
  }

  async #drain(keep: number): Promise<void> {
    while (this.#inFlight.length > keep) {
      const { conversations, codes } = this.#inFlight.shift()!;
      const found = codes ? await codes : null;
      const inline = this.#language?.inline;
      for (let index = 0; index < conversations.length; index++) {
        const conversation = conversations[index]!;
        if (found) conversation.language = found[index]!;
        else if (inline) conversation.language = inline(sampleOf(conversation));
        this.#tally.accept(conversation);
        await this.#writer.write(conversation);
      }
    }
  }
}
