/**
 * The Import view's wizard: choose sources → detect the format and preview the first
 * conversations (override the format, or map fields for an unknown shape) → options → the
 * `dataset.import` job with its progress, then the import report. One instance for the app, so
 * an import keeps running, and its progress stays visible, while the user looks at other views.
 */
import type { DetectResult, FieldInfo, FormatInfo, ImportReport } from '../../../src-main/api/datasets.js';
import type { DatasetEntry, Job } from '../../../src-main/api/schemas.js';
import { api, type AppError, type Result } from './api.js';
import { jobs } from './jobs.svelte.js';
import { Resource } from './resource.svelte.js';

export type ImportStep = 'sources' | 'preview' | 'options' | 'import';

export const IMPORT_STEPS: readonly { id: ImportStep; title: string }[] = [
  { id: 'sources', title: 'Choose files' },
  { id: 'preview', title: 'Check the format' },
  { id: 'options', title: 'Options' },
  { id: 'import', title: 'Import' },
];

/**
 * Fields the importer's formats read (engine/data/formats), offered as mapping targets. Any
 * field name is accepted; these are the ones a format recognises.
 */
export const MAPPING_TARGETS: readonly { name: string; text: string }[] = [
  { name: 'prompt', text: 'the user prompt (text or messages)' },
  { name: 'chosen', text: 'the preferred answer' },
  { name: 'rejected', text: 'the dispreferred answer' },
  { name: 'messages', text: 'a list of {role, content} messages' },
  { name: 'conversations', text: 'a list of {from, value} turns (ShareGPT)' },
  { name: 'conversation', text: 'a chat log list of {role, content}' },
  { name: 'system', text: 'the system prompt' },
  { name: 'user_preference', text: 'the user’s dissatisfied feedback turn (DRIFT)' },
  { name: 'label', text: 'a boolean: the answer was desirable (KTO)' },
  { name: 'completion', text: 'the answer to a prompt (KTO)' },
  { name: 'instruction', text: 'an instruction (Alpaca)' },
  { name: 'input', text: 'extra input to the instruction' },
  { name: 'output', text: 'the answer to an instruction' },
];

/** The format select's value for "map the fields myself". */
export const CUSTOM_MAPPING = 'custom-mapping';

export interface MappingRow {
  id: number;
  target: string;
  source: string;
}

/** A path to import; `upload` is set for a file the browser sent to the server. */
export interface ImportSource {
  path: string;
  upload?: { name: string; bytes: number };
}

/** A file being sent to the server (browser mode). */
export interface PendingUpload {
  id: number;
  name: string;
  sent: number;
  total: number;
  error: AppError | null;
}

/** What the `dataset.import` job returns (engine/data/import.ts ImportResult), as far as the view reads it. */
interface ImportJobResult {
  datasetId: string;
}

function fail(code: AppError['code'], message: string): AppError {
  return { code, message };
}

export class ImportWizard {
  step: ImportStep = $state('sources');
  sources: ImportSource[] = $state.raw([]);
  /** The path field's text, added to `sources` on Enter or before detecting. */
  pathInput = $state('');
  uploads: PendingUpload[] = $state.raw([]);
  sourcesError: AppError | null = $state.raw(null);

  detecting = $state(false);
  detection: DetectResult | null = $state.raw(null);
  detectError: AppError | null = $state.raw(null);
  /** '' detects the format; a format name forces it; CUSTOM_MAPPING shows the mapping editor. */
  formatChoice = $state('');
  mapping: MappingRow[] = $state([]);
  /** With a mapping: the format to read mapped records as ('' = detect from the mapped fields). */
  mappingFormat = $state('');
  mappingError: AppError | null = $state.raw(null);
  /** The mapping the shown preview was made with (null: none). */
  appliedMapping: Record<string, string> | null = $state.raw(null);
  /**
   * The fields of the records as they are in the files, for the mapping editor: a detection with
   * a mapping lists the mapped names instead, so this keeps the listing of the last one without.
   */
  sourceFields: FieldInfo[] = $state.raw([]);

  name = $state('');
  redact = $state(false);
  language = $state(true);

  jobId: string | null = $state(null);
  /** The job as job:start answered, until job:updated events describe it. */
  #startedJob: Job | null = $state.raw(null);
  starting = $state(false);
  startError: AppError | null = $state.raw(null);
  report: ImportReport | null = $state.raw(null);
  reportError: AppError | null = $state.raw(null);

  readonly formats = new Resource<FormatInfo[]>(() => api.invoke('dataset:formats', {}));
  readonly job: Job | null = $derived(
    this.jobId === null ? null : (jobs.list.find((job) => job.id === this.jobId) ?? this.#startedJob),
  );
  readonly mappingMode: boolean = $derived(this.formatChoice === CUSTOM_MAPPING);
  readonly uploading: boolean = $derived(this.uploads.some((upload) => upload.error === null));
  /** The import can start: files were found and either a format fits or fields are mapped. */
  readonly canContinue: boolean = $derived(
    this.detection !== null && this.detection.files.length > 0 && this.detection.format !== null,
  );
  #nextId = 1;

  /** Adds paths (one per line of `text`), skipping ones already listed. */
  addPaths(text: string): void {
    const paths = text
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '');
    this.addSources(paths.map((path) => ({ path })));
  }

  addSources(sources: ImportSource[]): void {
    const added = sources.filter(
      (source, index) =>
        !this.sources.some((known) => known.path === source.path) &&
        sources.findIndex((other) => other.path === source.path) === index,
    );
    if (added.length === 0) return;
    this.sources = [...this.sources, ...added];
    this.sourcesError = null;
    this.#sourcesChanged();
  }

  removeSource(path: string): void {
    this.sources = this.sources.filter((source) => source.path !== path);
    this.#sourcesChanged();
  }

  /** Commits the path field's text, if any. */
  commitPathInput(): void {
    if (this.pathInput.trim() === '') return;
    this.addPaths(this.pathInput);
    this.pathInput = '';
  }

  /** Desktop: the native file or folder picker. */
  async browse(kind: 'file' | 'folder'): Promise<void> {
    const result = await api.invoke('dialog:open', {
      kind,
      multiple: true,
      title: kind === 'file' ? 'Choose files to import' : 'Choose folders to import',
      ...(kind === 'file'
        ? {
            filters: [
              {
                name: 'Chat logs and preference data',
                extensions: ['jsonl', 'ndjson', 'json', 'csv', 'tsv', 'parquet', 'gz'],
              },
              { name: 'All files', extensions: ['*'] },
            ],
          }
        : {}),
    });
    if (!result.ok) {
      this.sourcesError = result.error;
      return;
    }
    if (!result.value.canceled) this.addSources(result.value.paths.map((path) => ({ path })));
  }

  /**
   * Files dropped or picked in the page. In the desktop app each has a path; in browser mode
   * they are uploaded to the server first. Folders cannot be uploaded (a browser hands over
   * their files one by one only through a folder picker), so browser mode asks for their path.
   */
  async addFiles(files: readonly File[], folders: readonly string[] = []): Promise<void> {
    const pathless: File[] = [];
    const withPaths: ImportSource[] = [];
    for (const file of files) {
      const path = api.pathForFile(file);
      if (path) withPaths.push({ path });
      else pathless.push(file);
    }
    this.addSources(withPaths);
    if (folders.length > 0) {
      this.sourcesError = fail(
        'invalid_request',
        `${folders.join(', ')}: a folder cannot be uploaded from the browser. Type its path on the server instead, or drop its files.`,
      );
    }
    await Promise.all(pathless.map((file) => this.#upload(file)));
  }

  dismissUpload(id: number): void {
    this.uploads = this.uploads.filter((upload) => upload.id !== id);
  }

  async #upload(file: File): Promise<void> {
    const id = this.#nextId++;
    this.uploads = [...this.uploads, { id, name: file.name, sent: 0, total: file.size, error: null }];
    const update = (change: Partial<PendingUpload>) => {
      this.uploads = this.uploads.map((upload) => (upload.id === id ? { ...upload, ...change } : upload));
    };
    const result = await api.upload(file, (sent, total) => update({ sent, total }));
    if (!result.ok) {
      update({ error: result.error });
      return;
    }
    this.dismissUpload(id);
    this.addSources([{ path: result.value.path, upload: { name: result.value.name, bytes: result.value.bytes } }]);
  }

  /** Reads the first records of the sources and moves to the preview; false when it failed. */
  async detect(): Promise<boolean> {
    this.commitPathInput();
    if (this.sources.length === 0) {
      this.sourcesError = fail('invalid_request', 'Add a file or folder to import first.');
      return false;
    }
    const mapping = this.mappingMode ? this.#mappingRecord() : null;
    if (mapping && 'error' in mapping) {
      this.mappingError = mapping.error;
      return false;
    }
    const format = this.mappingMode ? this.mappingFormat : this.formatChoice;
    this.detecting = true;
    const result = await api.invoke('dataset:detect', {
      paths: this.sources.map((source) => source.path),
      ...(format ? { format } : {}),
      ...(mapping ? { map: mapping.map } : {}),
    });
    this.detecting = false;
    if (!result.ok) {
      const mappingProblem =
        this.mappingMode && (result.error.code === 'mapping_invalid' || result.error.code === 'invalid_request');
      if (mappingProblem) this.mappingError = result.error;
      else this.detectError = result.error;
      return false;
    }
    this.detectError = null;
    this.mappingError = null;
    this.detection = result.value;
    this.appliedMapping = mapping?.map ?? null;
    if (!mapping || this.sourceFields.length === 0) this.sourceFields = result.value.fields;
    // Nothing fits: go straight to the mapping editor, with one row per field the record has.
    if (result.value.format === null && !this.mappingMode && result.value.fields.length > 0) {
      this.formatChoice = CUSTOM_MAPPING;
      if (this.mapping.length === 0) this.addMappingRow();
    }
    if (this.step === 'sources') this.step = 'preview';
    return true;
  }

  /** The format select changed: re-detect with the choice (the mapping editor waits for Apply). */
  async chooseFormat(choice: string): Promise<void> {
    this.formatChoice = choice;
    if (choice === CUSTOM_MAPPING) {
      if (this.mapping.length === 0) this.addMappingRow();
      return;
    }
    this.mappingError = null;
    await this.detect();
  }

  addMappingRow(target = '', source = ''): void {
    this.mapping.push({ id: this.#nextId++, target, source });
  }

  removeMappingRow(id: number): void {
    const index = this.mapping.findIndex((row) => row.id === id);
    if (index >= 0) this.mapping.splice(index, 1);
  }

  #mappingRecord(): { map: Record<string, string> } | { error: AppError } {
    const map: Record<string, string> = {};
    for (const row of this.mapping) {
      const target = row.target.trim();
      const source = row.source.trim();
      if (target === '' && source === '') continue;
      if (target === '' || source === '') {
        return { error: fail('mapping_invalid', 'Each mapping row needs both a target field and a source path.') };
      }
      if (Object.hasOwn(map, target)) {
        return { error: fail('mapping_invalid', `"${target}" is mapped twice; keep one row for it.`) };
      }
      map[target] = source;
    }
    if (Object.keys(map).length === 0) {
      return { error: fail('mapping_invalid', 'Map at least one field, for example prompt → question.') };
    }
    return { map };
  }

  goTo(step: ImportStep): void {
    if (step === 'preview' && this.detection === null) return;
    if (step === 'options' && !this.canContinue) return;
    if (step === 'import' && this.jobId === null) return;
    this.step = step;
  }

  /** Starts the `dataset.import` job with what the preview showed. */
  async start(): Promise<void> {
    if (!this.canContinue || this.starting) return;
    const params: Record<string, unknown> = {
      paths: this.sources.map((source) => source.path),
      redact: this.redact,
      language: this.language,
    };
    if (this.appliedMapping) {
      params.map = this.appliedMapping;
      if (this.mappingFormat) params.format = this.mappingFormat;
    } else if (this.formatChoice) {
      params.format = this.formatChoice;
    }
    if (this.name.trim() !== '') params.name = this.name.trim();
    this.starting = true;
    const result = await api.invoke('job:start', { kind: 'dataset.import', params });
    this.starting = false;
    if (!result.ok) {
      this.startError = result.error;
      return;
    }
    this.startError = null;
    this.report = null;
    this.reportError = null;
    this.#startedJob = result.value;
    this.jobId = result.value.id;
    this.step = 'import';
  }

  async cancel(): Promise<void> {
    if (this.jobId !== null) await jobs.cancel(this.jobId);
  }

  /** Loads the report of the finished import (called once the job has succeeded). */
  async loadReport(): Promise<void> {
    const datasetId = (this.job?.result as ImportJobResult | undefined)?.datasetId;
    if (!datasetId) return;
    const result = await api.invoke('dataset:get', { id: datasetId });
    if (result.ok) {
      this.report = result.value.report;
      this.reportError =
        result.value.report === null ? fail('not_found', 'The dataset was imported but has no import report.') : null;
    } else {
      this.reportError = result.error;
    }
  }

  /** After a failed or cancelled import: back to the options, everything else kept. */
  retry(): void {
    this.jobId = null;
    this.#startedJob = null;
    this.step = 'options';
  }

  /** Starts over with no sources. */
  reset(): void {
    this.step = 'sources';
    this.sources = [];
    this.pathInput = '';
    this.uploads = [];
    this.sourcesError = null;
    this.#sourcesChanged();
    this.name = '';
    this.redact = false;
    this.language = true;
    this.jobId = null;
    this.#startedJob = null;
    this.startError = null;
    this.report = null;
    this.reportError = null;
  }

  #sourcesChanged(): void {
    this.detection = null;
    this.detectError = null;
    this.formatChoice = '';
    this.mapping = [];
    this.mappingFormat = '';
    this.mappingError = null;
    this.appliedMapping = null;
    this.sourceFields = [];
    if (this.step === 'preview' || this.step === 'options') this.step = 'sources';
  }
}

export const importWizard = new ImportWizard();

/** The catalog's datasets with their import reports, loaded on demand (the list at the foot of the view). */
export class ImportReports {
  reports: Record<string, ImportReport | null> = $state.raw({});
  errors: Record<string, AppError> = $state.raw({});
  deleting: string[] = $state.raw([]);
  deleteError: AppError | null = $state.raw(null);

  async load(entry: DatasetEntry): Promise<void> {
    const result: Result<{ report: ImportReport | null }> = await api.invoke('dataset:get', { id: entry.id });
    if (result.ok) {
      this.reports = { ...this.reports, [entry.id]: result.value.report };
      const { [entry.id]: _dropped, ...rest } = this.errors;
      this.errors = rest;
    } else {
      this.errors = { ...this.errors, [entry.id]: result.error };
    }
  }

  /** Removes a dataset (entry and folder); the catalog reloads on catalog:changed. */
  async remove(id: string): Promise<boolean> {
    this.deleting = [...this.deleting, id];
    const result = await api.invoke('dataset:delete', { id });
    this.deleting = this.deleting.filter((pending) => pending !== id);
    if (!result.ok) {
      this.deleteError = result.error;
      return false;
    }
    this.deleteError = null;
    const { [id]: _dropped, ...rest } = this.reports;
    this.reports = rest;
    return true;
  }
}

export const importReports = new ImportReports();
