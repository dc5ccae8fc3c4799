/**
 * The `signals.mine` job: streams a dataset's conversations.jsonl once, runs the detectors on each
 * conversation, picks one signal per turn (the first detector, in the order given, that judged it),
 * builds pairs and SAT records, and writes signals.jsonl, pairs.jsonl, sat.jsonl and
 * mining-report.json. Memory stays bounded: one conversation at a time plus counters. Each output
 * replaces the previous one only when the job succeeds.
 *
 * When the data carries SAT/DSAT labels, every other detector is compared with them turn by turn
 * (agreement.ts), whether or not `labels` is among the detectors used for pairs.
 */
import { access, readFile } from 'node:fs/promises';
import {
  AppFailure,
  MineParams,
  MineResult,
  type Conversation,
  type DatasetEntry,
  type DetectorName,
  type Job,
  type MiningReport,
  type Signal,
} from '../../api/index.js';
import type { JobCompletion, JobHandler } from '../jobs/types.js';
import { writeFileAtomic } from '../workspace/index.js';
import { AgreementCounter } from './agreement.js';
import { hasDsat, hasSat } from './categories.js';
import { ClassifierDetector } from './classifier/detector.js';
import { loadClassifier } from './classifier/store.js';
import { DATASET_FILES, datasetFile } from './files.js';
import { JsonlWriter, readJsonlLines } from './jsonl.js';
import { LABEL_RULES, LabelsDetector } from './labels.js';
import { buildPairs, chooseSignals } from './pairs.js';
import { RulesDetector } from './rules/detector.js';
import type { Detector } from './types.js';

const PROGRESS_EVERY = 250;

function invalid(message: string): never {
  throw new AppFailure('job_invalid_params', message);
}

/** Checks the shape mining relies on; the import job validated the rest. */
function asConversation(value: unknown): Conversation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Partial<Conversation>;
  if (typeof record.id !== 'string' || !Array.isArray(record.messages)) return undefined;
  if (!record.messages.every((message) => typeof message?.content === 'string' && typeof message.role === 'string')) {
    return undefined;
  }
  if (typeof record.metadata !== 'object' || record.metadata === null) record.metadata = {};
  return record as Conversation;
}

async function expectedConversations(workspaceDir: string, datasetId: string): Promise<number> {
  try {
    const report = JSON.parse(await readFile(datasetFile(workspaceDir, datasetId, 'importReport'), 'utf8')) as {
      counts?: { conversations?: unknown };
    };
    const count = report.counts?.conversations;
    return typeof count === 'number' && Number.isFinite(count) ? count : 0;
  } catch {
    return 0;
  }
}

export const mineSignals: JobHandler = async (rawParams, context) => {
  const parsed = MineParams.safeParse(rawParams);
  if (!parsed.success)
    invalid(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
  const params = parsed.data;
  const { datasetId } = params;
  const order = [...new Set(params.detectors)];
  if (order.includes('classifier') && params.classifierId === undefined)
    invalid('The classifier detector needs classifierId.');
  const workspaceDir = context.workspaceDir;
  const source = datasetFile(workspaceDir, datasetId, 'conversations');
  try {
    await access(source);
  } catch {
    throw new AppFailure('not_found', `Dataset ${datasetId} has no ${DATASET_FILES.conversations}; import it first.`);
  }

  const labels = new LabelsDetector();
  const detectors = new Map<DetectorName, Detector>();
  for (const name of order) {
    if (name === 'labels') detectors.set(name, labels);
    else if (name === 'rules') detectors.set(name, new RulesDetector({ rephraseThreshold: params.rephraseThreshold }));
    else detectors.set(name, new ClassifierDetector(await loadClassifier(workspaceDir, params.classifierId!)));
  }
  const compared = order.filter((name) => name !== 'labels');
  const agreement = new Map(compared.map((name) => [name, new AgreementCounter(name)]));
  const startedAt = new Date();
  const total = await expectedConversations(workspaceDir, datasetId);

  const report: MiningReport = {
    datasetId,
    params: { ...params },
    detectors: order,
    classifierId: params.classifierId ?? null,
    counts: {
      conversations: 0,
      judgedTurns: 0,
      dsat: 0,
      sat: 0,
      both: 0,
      signals: 0,
      pairs: 0,
      seedPairs: 0,
      satRecords: 0,
      conversationsWithDsat: 0,
      unreadable: 0,
    },
    byCategory: {},
    byDetector: Object.fromEntries(order.map((name) => [name, { sat: 0, dsat: 0, both: 0, judged: 0 }])),
    pairsBySource: {},
    pairsByLanguage: {},
    labelledTurns: 0,
    agreement: [],
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationMs: 0,
  };
  const bump = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

  const signalsOut = await JsonlWriter.open(datasetFile(workspaceDir, datasetId, 'signals'));
  const pairsOut = await JsonlWriter.open(datasetFile(workspaceDir, datasetId, 'pairs'));
  const satOut = await JsonlWriter.open(datasetFile(workspaceDir, datasetId, 'sat'));
  const writers = [signalsOut, pairsOut, satOut];
  try {
    context.progress('mining', 0, total);
    for await (const line of readJsonlLines(source, context.signal)) {
      let conversation: Conversation | undefined;
      try {
        conversation = asConversation(JSON.parse(line.text));
      } catch {
        conversation = undefined;
      }
      if (!conversation) {
        report.counts.unreadable++;
        continue;
      }
      report.counts.conversations++;

      const perDetector = order.map((name) => detectors.get(name)!.detect(conversation));
      const labelSignals = detectors.has('labels')
        ? perDetector[order.indexOf('labels')]!
        : labels.detect(conversation);
      report.labelledTurns += labelSignals.length;
      for (const name of compared) {
        const byTurn = new Map(perDetector[order.indexOf(name)]!.map((signal) => [signal.turn, signal]));
        for (const label of labelSignals) {
          const predicted = byTurn.get(label.turn);
          // A KTO label judges a final answer no user reacted to; only a detector that judges
          // final answers (a classifier trained on KTO labels) can be compared on it.
          if (predicted === undefined && label.evidence[0]?.rule === LABEL_RULES.kto) continue;
          agreement.get(name)!.add(label, predicted);
        }
      }

      const chosen = chooseSignals(perDetector);
      perDetector.forEach((signals, index) => {
        const name = order[index]!;
        const tally = report.byDetector[name]!;
        for (const signal of signals) {
          tally.judged++;
          if (signal.polarity === 'neither') continue;
          if (signal.polarity === 'both') tally.both++;
          if (hasSat(signal.polarity)) tally.sat++;
          if (hasDsat(signal.polarity)) tally.dsat++;
        }
      });
      for (const signals of perDetector) {
        for (const signal of signals) {
          if (signal.polarity === 'neither') continue;
          const primary = chosen.get(signal.turn)?.detector === signal.detector;
          const written: Signal = primary ? { ...signal, primary: true } : signal;
          await signalsOut.write(written);
          report.counts.signals++;
        }
      }
      let dsatHere = false;
      for (const signal of chosen.values()) {
        report.counts.judgedTurns++;
        if (signal.polarity === 'neither' || signal.confidence < params.minConfidence) continue;
        if (hasDsat(signal.polarity)) {
          report.counts.dsat++;
          dsatHere = true;
        }
        if (hasSat(signal.polarity)) report.counts.sat++;
        if (signal.polarity === 'both') report.counts.both++;
        for (const category of signal.categories) bump(report.byCategory, category);
      }
      if (dsatHere) report.counts.conversationsWithDsat++;

      const built = buildPairs(conversation, chosen, {
        datasetId,
        minConfidence: params.minConfidence,
        seedPairs: params.seedPairs,
        satRecords: params.satRecords,
        labels: order.includes('labels'),
        preference: params.preference,
        genericFeedback: params.genericFeedback,
      });
      for (const pair of built.pairs) {
        await pairsOut.write(pair);
        report.counts.pairs++;
        if (pair.kind === 'seed') report.counts.seedPairs++;
        bump(report.pairsBySource, pair.source);
        bump(report.pairsByLanguage, pair.language);
      }
      for (const record of built.satRecords) {
        await satOut.write(record);
        report.counts.satRecords++;
      }
      if (report.counts.conversations % PROGRESS_EVERY === 0) {
        context.throwIfCancelled();
        context.progress('mining', report.counts.conversations, Math.max(total, report.counts.conversations));
      }
    }
    context.throwIfCancelled();
    context.progress('writing', report.counts.conversations, Math.max(total, report.counts.conversations));
    for (const writer of writers) await writer.commit();
  } catch (error) {
    for (const writer of writers) await writer.abort();
    if (context.signal.aborted) throw new AppFailure('job_cancelled');
    throw error;
  }

  report.agreement = report.labelledTurns > 0 ? [...agreement.values()].map((counter) => counter.result()) : [];
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  report.durationMs = finishedAt.getTime() - startedAt.getTime();
  const reportPath = datasetFile(workspaceDir, datasetId, 'miningReport');
  await writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  context.progress('done', report.counts.conversations, Math.max(total, report.counts.conversations));
  const result: MineResult = {
    datasetId,
    counts: report.counts,
    byCategory: report.byCategory,
    labelledTurns: report.labelledTurns,
    reportPath: `datasets/${datasetId}/${DATASET_FILES.miningReport}`,
  };
  return result;
};

/** Host step after a successful mining job: records the summary on the dataset's catalog entry. */
export const mineCompletion: JobCompletion = async (job: Job, result, host) => {
  const parsed = MineResult.safeParse(result);
  if (!parsed.success) return result;
  const mined = parsed.data;
  const detectors = Array.isArray(job.params['detectors']) ? job.params['detectors'].map(String) : ['labels', 'rules'];
  let found = false;
  await host.workspace.catalog.update((draft) => {
    const entry = draft.datasets.find((dataset: DatasetEntry) => dataset.id === mined.datasetId);
    if (!entry) return;
    found = true;
    entry.mining = {
      minedAt: job.finishedAt ?? new Date().toISOString(),
      detectors,
      dsat: mined.counts.dsat,
      sat: mined.counts.sat,
      pairs: mined.counts.pairs,
      seedPairs: mined.counts.seedPairs,
      satRecords: mined.counts.satRecords,
      byCategory: mined.byCategory,
    };
  });
  if (found) host.events.emit('catalog:changed', { section: 'datasets' });
  return mined;
};
