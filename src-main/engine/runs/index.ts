/**
 * Preference-training runs (DRIFT, IterDPO, SPIN, offline DPO): the `run.train` job (job.ts, in a
 * worker), what each method trains on (recipes.ts), on-policy sampling (sampling.ts), the run
 * folder (files.ts), the catalog mirror (catalog.ts) and the run:* channels (handlers.ts). This
 * file is what hosts may use without the engine open: reading a run from disk and asking the
 * process that runs it to stop.
 */
import { readdir } from 'node:fs/promises';
import { AppFailure, type RunDetail } from '../../api/index.js';
import { errorCode } from '../workspace/atomic.js';
import { ENTRY_FOLDERS, resolveInside, runDir } from '../workspace/layout.js';
import { detailOf, isActive, loadRunFile, readRunFile, writeStopRequest } from './files.js';

/** A preference run's detail read from its run.json. @throws AppFailure `not_found` */
export async function readRunDetail(workspaceDir: string, runId: string): Promise<RunDetail> {
  return detailOf(await loadRunFile(workspaceDir, runId));
}

/** Every preference run of the workspace on disk (runs/<id>/run.json), newest first. */
export async function listRunDetails(workspaceDir: string): Promise<RunDetail[]> {
  let names: string[] = [];
  try {
    names = await readdir(resolveInside(workspaceDir, ENTRY_FOLDERS.runs));
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  const details: RunDetail[] = [];
  for (const name of names.filter((item) => !item.startsWith('.'))) {
    const run = await readRunFile(runDir(workspaceDir, name)).catch(() => null);
    if (run !== null) details.push(detailOf(run));
  }
  return details.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * Asks the process running a run to pause or cancel it, through the run's stop-request.json:
 * its job sees the file after its current step (or batch), saves a checkpoint and stops. For a
 * run whose job belongs to another process, which holds the workspace.
 * @throws AppFailure `not_found`; `run_state_conflict` when the run is not running
 */
export async function requestRunStop(
  workspaceDir: string,
  runId: string,
  action: 'pause' | 'cancel',
): Promise<RunDetail> {
  const run = await loadRunFile(workspaceDir, runId);
  if (!isActive(run.status)) {
    throw new AppFailure('run_state_conflict', `Run ${runId} is not running (it has ${run.status}).`, {
      status: run.status,
    });
  }
  await writeStopRequest(runDir(workspaceDir, runId), action);
  return detailOf(run);
}
