/**
 * engine/data: importing chat logs and preference data. Containers (JSONL, JSON, CSV, TSV,
 * Parquet, gzip, folders) yield raw records; format adapters normalise them to the canonical
 * Conversation schema; the pipeline adds ids, personal-data flags, languages and duplicate
 * marks; the `dataset.import` job writes the dataset atomically.
 */
export { detectDataset, PARQUET_DETECT_TIMEOUT_MS, type DetectRequest, type IsolatedDetection } from './detect.js';
export { findFormat, listFormats, parseMapping } from './formats/index.js';
export { importDataset, ImportParams, ImportResult, CONVERSATIONS_FILE, REPORT_FILE } from './import.js';
export { DEFAULT_LIMITS, resolveLimits, type ImportLimits } from './limits.js';
export { findPii, luhnValid, redact, PLACEHOLDERS } from './pii.js';
export { readImportReport, removeDatasetFolder } from './store.js';
