/**
 * What each method trains on (drift-paper.md §1.2, §1.5, §2): the pairs of one iteration.
 *
 * | method  | chosen (y⁺)                                   | rejected (y⁻)                          |
 * |---------|-----------------------------------------------|----------------------------------------|
 * | seed    | the logged SAT revision (pair set `chosen`)   | the logged DSAT response               |
 * | drift   | a sample of π(k−1) on the guided prompt       | the logged DSAT response (fixed)       |
 * | spin    | the logged SAT answer (seed pairs' `chosen`)  | a sample of π(k−1) on the plain prompt |
 * | iterdpo | the judge's best of `candidates` samples      | the judge's worst of them              |
 * | dpo     | the logged SAT revision                       | the logged DSAT response               |
 *
 * Records are taken in the pair set's file order; the held-out split is the first pairs, not
 * shuffled, as gen-drift.py's `--test_size` takes them.
 */
import type { RunConfig, RunPairRow, RunSampleRow, SampleSelection } from '../../api/index.js';
import type { PolicySample, SampleSource } from './sampling.js';

/** One usable pair-set row: the DSAT record, and the SAT answer when it is a seed pair. */
export interface RunRecord extends SampleSource {
  /** The later answer that drew SAT (seed pairs); null for a plain DSAT pair. */
  chosen: string | null;
}

/** How many of `pairs` are held out: min(testSize, ⌊testFraction · pairs⌋). */
export function heldOutCount(pairs: number, testSize: number, testFraction: number): number {
  return Math.max(0, Math.min(testSize, Math.floor(testFraction * pairs)));
}

/** Marks the first {@link heldOutCount} rows as the test split. */
export function splitPairs(
  pairs: readonly Omit<RunPairRow, 'split'>[],
  config: Pick<RunConfig, 'testSize' | 'testFraction'>,
): RunPairRow[] {
  const test = heldOutCount(pairs.length, config.testSize, config.testFraction);
  return pairs.map((pair, index) => ({ ...pair, split: index < test ? 'test' : 'train' }));
}

function pairRow(iteration: number, record: RunRecord, chosen: string, rejected: string): Omit<RunPairRow, 'split'> {
  return {
    id: `i${iteration}-${record.id}`,
    sourceId: record.id,
    prompt: record.context.map((message) => ({
      role: message.role as RunPairRow['prompt'][number]['role'],
      content: message.content,
    })),
    chosen: [{ role: 'assistant', content: chosen }],
    rejected: [{ role: 'assistant', content: rejected }],
  };
}

/** The seed (DSAT → SAT) pairs: every record with a chosen answer. */
export function seedPairs(records: readonly RunRecord[], iteration: number, config: RunConfig): RunPairRow[] {
  return splitPairs(
    records
      .filter((record) => record.chosen !== null)
      .map((record) => pairRow(iteration, record, record.chosen as string, record.rejected)),
    config,
  );
}

/** What building an iteration's pairs needs from the job: sampling, judging, recording, stopping. */
export interface PairBuilding {
  /** One sample of π(k−1) per source (one generation batch). */
  sample(sources: readonly SampleSource[], guided: boolean, draw: number, offset: number): Promise<PolicySample[]>;
  /** The judge's score of each answer to its record's context (higher is better). */
  judge(records: readonly RunRecord[], answers: readonly string[]): Promise<number[]>;
  /** Records sample rows once their roles are known (appended to samples.jsonl). */
  record(rows: RunSampleRow[]): Promise<void>;
  /** Reports prompts sampled so far (draws × records). */
  progress(done: number, total: number): void;
  /** Throws when the run was asked to stop. */
  checkStop(): Promise<void>;
}

/** The records an iteration of `method` samples for (SPIN: the seed pairs, whose chosen is the SAT answer). */
export function iterationRecords(method: RunConfig['method'], records: readonly RunRecord[]): RunRecord[] {
  return method === 'spin' ? records.filter((record) => record.chosen !== null) : [...records];
}

/**
 * Builds iteration `iteration`'s pairs for DRIFT, SPIN or IterDPO, sampling in batches of
 * `generation.batchSize` records and recording every sample as its batch finishes.
 */
export async function buildIterationPairs(
  config: RunConfig,
  iteration: number,
  records: readonly RunRecord[],
  building: PairBuilding,
): Promise<RunPairRow[]> {
  const { method, generation } = config;
  const sources = iterationRecords(method, records);
  const draws = method === 'iterdpo' ? config.candidates : generation.samples;
  const total = sources.length * draws;
  const pairs: Omit<RunPairRow, 'split'>[] = [];
  let done = 0;
  building.progress(0, total);
  for (let offset = 0; offset < sources.length; offset += generation.batchSize) {
    await building.checkStop();
    const batch = sources.slice(offset, offset + generation.batchSize);
    const samples: PolicySample[][] = [];
    for (let draw = 0; draw < draws; draw++) {
      // IterDPO: the first candidate from the guided prompt, the rest from the plain one (§2 [I]).
      const guided = method === 'drift' ? generation.guided : method === 'iterdpo' && draw === 0 && generation.guided;
      samples.push(await building.sample(batch, guided, draw, offset));
      done += batch.length;
      building.progress(done, total);
      await building.checkStop();
    }
    const needsJudge = method === 'iterdpo' || (draws > 1 && generation.selection === 'judge-best');
    const scores: number[][] = [];
    if (needsJudge) {
      for (const drawn of samples) {
        scores.push(
          await building.judge(
            batch,
            drawn.map((sample) => sample.text),
          ),
        );
      }
    }
    const rows: RunSampleRow[] = [];
    batch.forEach((record, index) => {
      const candidates = samples.map((drawn) => drawn[index] as PolicySample);
      const candidateScores = needsJudge ? scores.map((drawn) => drawn[index] as number) : null;
      // The draw that became DRIFT's chosen or SPIN's rejected answer (IterDPO's are all candidates).
      let selectedDraw = -1;
      if (method === 'iterdpo') {
        const [chosenIndex, rejectedIndex] = bestAndWorst(candidateScores as number[]);
        pairs.push(
          pairRow(
            iteration,
            record,
            (candidates[chosenIndex] as PolicySample).text,
            (candidates[rejectedIndex] as PolicySample).text,
          ),
        );
      } else {
        const selected = select(candidates, candidateScores, generation.selection);
        const text = (candidates[selected] as PolicySample).text;
        if (method === 'drift') pairs.push(pairRow(iteration, record, text, record.rejected));
        else pairs.push(pairRow(iteration, record, record.chosen as string, text));
        selectedDraw = selected;
      }
      candidates.forEach((sample, draw) => {
        let role: RunSampleRow['role'] = 'candidate';
        if (draw === selectedDraw) role = method === 'drift' ? 'chosen' : 'rejected';
        rows.push({
          iteration,
          sourceId: record.id,
          role,
          prompt: sample.prompt,
          completion: sample.text,
          finishReason: sample.finishReason,
          score: candidateScores?.[draw] ?? null,
        });
      });
    });
    await building.record(rows);
  }
  return splitPairs(pairs, config);
}

/** Which of several samples a rule keeps (the first on ties; 'none' keeps the first). */
export function select(
  samples: readonly PolicySample[],
  scores: readonly number[] | null,
  rule: SampleSelection,
): number {
  if (samples.length <= 1 || rule === 'none') return 0;
  const values =
    rule === 'judge-best'
      ? (scores ?? samples.map(() => 0))
      : samples.map((sample) => (rule === 'longest' ? sample.text.length : -sample.text.length));
  let best = 0;
  for (let index = 1; index < values.length; index++)
    if ((values[index] as number) > (values[best] as number)) best = index;
  return best;
}

/** The indices of the highest and lowest score (the first of equal ones; on all-equal scores, first and last). */
export function bestAndWorst(scores: readonly number[]): [number, number] {
  let best = 0;
  let worst = 0;
  for (let index = 1; index < scores.length; index++) {
    if ((scores[index] as number) > (scores[best] as number)) best = index;
    if ((scores[index] as number) < (scores[worst] as number)) worst = index;
  }
  if (best === worst) worst = scores.length - 1;
  return [best, worst];
}
