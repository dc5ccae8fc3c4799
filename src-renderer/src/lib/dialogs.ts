/** The desktop app's native dialogs (`dialog:open`); browser mode has none and types paths instead. */
import { api, type AppError } from './api.js';

/** Asks the native dialog for a folder: its path, or null when cancelled or refused (with the error). */
export async function pickFolder(title: string): Promise<{ path: string | null; error: AppError | null }> {
  const result = await api.invoke('dialog:open', { kind: 'folder', title });
  if (!result.ok) return { path: null, error: result.error };
  const picked = result.value.paths[0];
  return { path: result.value.canceled || picked === undefined ? null : picked, error: null };
}
