/**
 * The dataset the Conversations and DSAT pairs views show (one choice shared by both, kept across
 * reloads), its mining report, the rubric's rule descriptions, and the "Mine signals" job.
 */
import type { DatasetEntry } from '../../../src-main/api/schemas.js';
import type { DetectorName, MiningReport, RuleInfo } from '../../../src-main/api/signals.js';
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

  /** Starts `signals.mine` on the current dataset; the catalog event refreshes the views when it ends. */
  async mine(): Promise<void> {
    if (!this.current) return;
    await jobs.start('signals.mine', { datasetId: this.current.id, detectors: [...this.detectors] });
  }
}

export const pairsDataset = new PairsDatasetState();
