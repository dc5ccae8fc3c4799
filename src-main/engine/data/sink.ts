/**
 * The last step of an import: conversations are counted in the tally and written in file
 * order. Without the language facet, or with the detector inline, each is written at once.
 * With the detection thread (language.ts), languages come back in batches while the import
 * goes on parsing; a conversation waiting for its language is kept as its JSON text (one flat
 * string, not an object graph the garbage collector has to trace and promote), and the
 * language is appended to that text when it arrives, so the line is the same either way.
 */
import type { Conversation, Message } from './schema.js';
import { languageSample, type LanguageDetector, type LanguageWorker } from './language.js';
import type { ImportTally } from './pipeline.js';
import type { JsonlWriter } from './writer.js';

const BATCH = 256;
/** Batches waiting for their languages; bounds memory to a few thousand lines of text. */
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
  #lines: string[] = [];
  #samples: string[] = [];
  readonly #inFlight: { lines: string[]; codes: Promise<string[]> }[] = [];

  constructor(writer: JsonlWriter, tally: ImportTally, language: LanguageSource | null) {
    this.#writer = writer;
    this.#tally = tally;
    this.#language = language;
  }

  async add(conversation: Conversation): Promise<void> {
    const inline = this.#language?.inline;
    if (inline) conversation.language = inline(sampleOf(conversation));
    this.#tally.accept(conversation);
    if (!this.#language?.worker) return this.#writer.write(conversation);
    // `language` is the last key either way: the JSON text without its closing brace, then it.
    this.#lines.push(JSON.stringify(conversation));
    this.#samples.push(sampleOf(conversation));
    if (this.#lines.length < BATCH) return;
    this.#send();
    await this.#drain(IN_FLIGHT);
  }

  /** Writes everything added so far. */
  async flush(): Promise<void> {
    this.#send();
    await this.#drain(0);
  }

  #send(): void {
    const worker = this.#language?.worker;
    if (!worker || this.#lines.length === 0) return;
    this.#inFlight.push({ lines: this.#lines, codes: worker.detect(this.#samples) });
    this.#lines = [];
    this.#samples = [];
  }

  async #drain(keep: number): Promise<void> {
    while (this.#inFlight.length > keep) {
      const { lines, codes } = this.#inFlight.shift()!;
      const found = await codes;
      for (let index = 0; index < lines.length; index++) {
        const code = found[index]!;
        this.#tally.countLanguage(code);
        const line = lines[index]!;
        await this.#writer.writeLine(line.slice(0, -1), `,"language":${JSON.stringify(code)}}`);
      }
    }
  }
}
