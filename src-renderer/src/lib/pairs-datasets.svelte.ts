/**
 * The dataset the Conversations and DSAT pairs views show (one choice shared by both, kept across
 * reloads), its mining report, the rubric's rule descriptions, the "Mine signals" job, and the
 * SAT/DSAT classifiers it can train and mine with.
 */
import type { DatasetEntry } from '../../../src-main/api/schemas.js';
import type {
  ClassifierInfo,
  DetectorName,
  MiningReport,
  RuleInfo,
  TrainClassifierParams,
} from '../../../src-main/api/signals.js';
import { api, type AppError } from './api.js';
import { catalog } from './catalog.svelte.js';
import { isActive, jobs } from './jobs.svelte.js';

const STORAGE_KEY = 'drift-wb-signals-dataset';

export class PairsDatasetState {
  /** The id the user picked; the first dataset when none (or a deleted one) was picked. */
  picked: string | null = $state(localStorage.getItem(STORAGE_KEY));
  report: MiningReport | null = $state.raw(null);
  reportError: AppError | null = $state.raw(null);
  /** Rule id → description, for evidence tooltips. */
  rules: Record<string, RuleInfo> = $state.raw({});
  detectors: DetectorName[] = $state(['labels', 'rules']);
  /** Trained classifiers from `classifier:list`, newest first. */
  classifiers: ClassifierInfo[] = $state.raw([]);
  /** The classifier the `classifier` detector mines with. */
  classifierId: string | null = $state(null);

  readonly datasets: DatasetEntry[] = $derived(catalog.datasets.value ?? []);
  readonly current: DatasetEntry | null = $derived(
    this.datasets.find((dataset) => dataset.id === this.picked) ?? this.datasets[0] ?? null,
  );
  readonly id: string | null = $derived(this.current?.id ?? null);
  readonly mined: boolean = $derived(this.current?.mining !== undefined);
  /** The running mining job of the current dataset, if any. */
  readonly miningJob = $derived(
    jobs.list.find(
      (job) =>
        job.kind === 'signals.mine' &&
        isActive(job) &&
        (job.params as { datasetId?: unknown }).datasetId === this.current?.id,
    ) ?? null,
  );

  /** The newest `signals.train` job of the current dataset (running or ended), if any. */
  readonly trainingJob = $derived(
    jobs.list.find(
      (job) =>
        job.kind === 'signals.train' &&
        Array.isArray((job.params as { datasetIds?: unknown }).datasetIds) &&
        (job.params as { datasetIds: unknown[] }).datasetIds.includes(this.current?.id),
    ) ?? null,
  );

  pick(id: string): void {
    this.picked = id;
    localStorage.setItem(STORAGE_KEY, id);
  }

  async loadReport(datasetId: string): Promise<void> {
    const result = await api.invoke('signals:report', { datasetId });
    if (datasetId !== this.id) return;
    if (result.ok) {
      this.report = result.value;
      this.reportError = null;
    } else {
      this.report = null;
      this.reportError = result.error;
    }
  }

  async loadRules(): Promise<void> {
    if (Object.keys(this.rules).length > 0) return;
    const result = await api.invoke('signals:rubric', {});
    if (result.ok) this.rules = Object.fromEntries(result.value.rules.map((rule) => [rule.id, rule]));
  }

  async loadClassifiers(): Promise<void> {
    const result = await api.invoke('classifier:list', {});
    if (!result.ok) return;
    this.classifiers = [...result.value].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    if (!this.classifiers.some((classifier) => classifier.id === this.classifierId))
      this.classifierId = this.classifiers[0]?.id ?? null;
  }

  /** Starts `signals.mine` on the current dataset; the catalog event refreshes the views when it ends. */
  async mine(): Promise<void> {
    if (!this.current) return;
    const useClassifier = this.detectors.includes('classifier') && this.classifierId !== null;
    const detectors = this.detectors.filter((detector) => detector !== 'classifier' || useClassifier);
    if (detectors.length === 0) return;
    await jobs.start('signals.mine', {
      datasetId: this.current.id,
      detectors,
      ...(useClassifier ? { classifierId: this.classifierId } : {}),
    });
  }

  /** Starts `signals.train` on the current dataset; `id` names the classifier (the engine picks one when empty). */
  async train(source: TrainClassifierParams['source'], id: string): Promise<void> {
    if (!this.current) return;
    await jobs.start('signals.train', { datasetIds: [this.current.id], source, ...(id ? { id } : {}) });
  }
}

export const pairsDataset = new PairsDatasetState();
