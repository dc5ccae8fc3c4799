/**
 * Curation decisions of one dataset as an append-only event log,
 * `<workspace>/datasets/<id>/decisions.jsonl` (bulk data stays out of the lowdb catalog).
 *
 * - A `decide` batch records, per pair, the state before and after. A bulk action on 100k pairs
 *   is one batch written as several lines (1,000 changes each) with the same batch id.
 * - Undo appends an `undo` event that restores the `before` states of the latest batch not yet
 *   undone; undoing again goes one batch further back.
 * - The current state is the fold of the log. A torn last line (a crash mid-append) is dropped.
 * - On open, a log past the compaction limits is rewritten atomically as a `snapshot` of the
 *   current state followed by the last batches verbatim, so undo still reaches them. Replaying
 *   those batches over the snapshot ends in the same state: each pair ends at its last `after`.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { PairDecision } from '../../api/index.js';
import { errorCode } from '../workspace/atomic.js';
import { appendJsonLine, readJsonLines, writeFileAtomic } from '../workspace/index.js';

const CHANGES_PER_LINE = 1000;
/** Batches kept verbatim (and undoable) after a compaction. */
const KEPT_BATCHES = 50;
const COMPACT_LINES = 20_000;
const COMPACT_BYTES = 64 * 1024 * 1024;

const Change = z.object({ id: z.string(), before: PairDecision.nullable(), after: PairDecision });
const DecisionEvent = z.discriminatedUnion('type', [
  z.object({ v: z.literal(1), type: z.literal('decide'), batch: z.string(), at: z.string(), changes: z.array(Change) }),
  z.object({
    v: z.literal(1),
    type: z.literal('undo'),
    batch: z.string(),
    undoes: z.string(),
    at: z.string(),
    changes: z.array(Change),
  }),
  z.object({
    v: z.literal(1),
    type: z.literal('snapshot'),
    at: z.string(),
    states: z.record(z.string(), PairDecision),
  }),
]);
type DecisionEvent = z.infer<typeof DecisionEvent>;
type Change = z.infer<typeof Change>;

/** The decision of a pair nobody touched. */
export const PENDING: Readonly<PairDecision> = Object.freeze({ status: 'pending', tags: [], note: '', at: null });

export function isDefaultDecision(decision: PairDecision): boolean {
  return (
    decision.status === 'pending' && decision.tags.length === 0 && decision.note === '' && decision.edit === undefined
  );
}

interface Batch {
  id: string;
  changes: Change[];
  undone: boolean;
}

function newBatchId(): string {
  return `b-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** One dataset's decisions: the folded state and the undo history. */
export class DecisionStore {
  readonly file: string;
  readonly #states = new Map<string, PairDecision>();
  readonly #batches: Batch[] = [];
  readonly #events: DecisionEvent[] = [];
  /** Problems found while reading (dropped lines), for a warning. */
  readonly warnings: string[] = [];

  private constructor(file: string) {
    this.file = file;
  }

  /** Reads and folds the log (creating nothing); compacts it when it is past the limits. */
  static async open(file: string): Promise<DecisionStore> {
    const store = new DecisionStore(file);
    let size = 0;
    try {
      size = (await stat(file)).size;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return store;
      throw error;
    }
    const { values, dropped } = await readJsonLines(file);
    for (const drop of dropped) store.warnings.push(drop.message);
    for (const value of values) {
      const parsed = DecisionEvent.safeParse(value);
      if (!parsed.success) {
        store.warnings.push(`${file}: an event does not match the decision log schema; skipped it.`);
        continue;
      }
      store.#apply(parsed.data);
    }
    if (values.length > COMPACT_LINES || size > COMPACT_BYTES) await store.compact();
    return store;
  }

  #apply(event: DecisionEvent): void {
    this.#events.push(event);
    if (event.type === 'snapshot') {
      this.#states.clear();
      this.#batches.length = 0;
      for (const [id, decision] of Object.entries(event.states)) this.#states.set(id, decision);
      return;
    }
    for (const change of event.changes) this.#set(change.id, change.after);
    if (event.type === 'decide') {
      const last = this.#batches.at(-1);
      if (last && last.id === event.batch) last.changes.push(...event.changes);
      else this.#batches.push({ id: event.batch, changes: [...event.changes], undone: false });
    } else {
      const target = this.#batches.find((batch) => batch.id === event.undoes);
      if (target) target.undone = true;
    }
  }

  #set(id: string, decision: PairDecision): void {
    if (isDefaultDecision(decision)) this.#states.delete(id);
    else this.#states.set(id, decision);
  }

  /** The decision on a pair (pending when none was made). */
  get(id: string): PairDecision {
    return this.#states.get(id) ?? PENDING;
  }

  /** Pairs with a decision other than the default. */
  entries(): IterableIterator<[string, PairDecision]> {
    return this.#states.entries();
  }

  /** Whether a batch can be undone. */
  get undoable(): boolean {
    return this.#batches.some((batch) => !batch.undone);
  }

  /**
   * Records one batch; changes that would not change anything are left out. Resolves with the
   * batch id (null if nothing changed) and the ids that changed, once the log is durable.
   */
  async decide(
    updates: ReadonlyArray<{ id: string; after: PairDecision }>,
  ): Promise<{ batch: string | null; changed: string[] }> {
    const changes: Change[] = [];
    for (const { id, after } of updates) {
      const before = this.#states.get(id) ?? null;
      if (JSON.stringify(before ?? PENDING) === JSON.stringify(after)) continue;
      changes.push({ id, before, after });
    }
    if (changes.length === 0) return { batch: null, changed: [] };
    const batch = newBatchId();
    const at = new Date().toISOString();
    for (let from = 0; from < changes.length; from += CHANGES_PER_LINE) {
      const event: DecisionEvent = {
        v: 1,
        type: 'decide',
        batch,
        at,
        changes: changes.slice(from, from + CHANGES_PER_LINE),
      };
      await appendJsonLine(this.file, event);
      this.#apply(event);
    }
    return { batch, changed: changes.map((change) => change.id) };
  }

  /** Reverts the latest batch not yet undone. */
  async undo(): Promise<{ batch: string | null; restored: string[] }> {
    const target = [...this.#batches].reverse().find((batch) => !batch.undone);
    if (!target) return { batch: null, restored: [] };
    const at = new Date().toISOString();
    const batch = newBatchId();
    const changes: Change[] = target.changes.map((change) => ({
      id: change.id,
      before: this.#states.get(change.id) ?? null,
      after: change.before ?? { ...PENDING, at },
    }));
    for (let from = 0; from < changes.length; from += CHANGES_PER_LINE) {
      const event: DecisionEvent = {
        v: 1,
        type: 'undo',
        batch,
        undoes: target.id,
        at,
        changes: changes.slice(from, from + CHANGES_PER_LINE),
      };
      await appendJsonLine(this.file, event);
      this.#apply(event);
    }
    return { batch: target.id, restored: changes.map((change) => change.id) };
  }

  /** Rewrites the log as a snapshot plus the last batches (and their undo events). */
  async compact(): Promise<void> {
    const keptIds = new Set(this.#batches.slice(-KEPT_BATCHES).map((batch) => batch.id));
    const tail = this.#events.filter(
      (event) =>
        (event.type === 'decide' && keptIds.has(event.batch)) || (event.type === 'undo' && keptIds.has(event.undoes)),
    );
    const snapshot: DecisionEvent = {
      v: 1,
      type: 'snapshot',
      at: new Date().toISOString(),
      states: Object.fromEntries(this.#states),
    };
    const lines = [snapshot, ...tail].map((event) => JSON.stringify(event)).join('\n');
    await writeFileAtomic(this.file, `${lines}\n`);
    this.#events.length = 0;
    const replay = [snapshot, ...tail];
    this.#states.clear();
    this.#batches.length = 0;
    for (const event of replay) this.#apply(event);
  }
}
