/** Builds canonical conversations (src-main/api/datasets.ts) and dataset folders for the tests. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Conversation, Message, Role } from '../../../src-main/api/index.js';

export type Turn = readonly [role: Role, content: string, labels?: Message['labels']];

/** A conversation with the given turns (turn = index), in the shape the importer writes. */
export function conversation(id: string, turns: readonly Turn[], extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    source: { file: 'test.jsonl', line: 1, byteOffset: 0 },
    format: 'openai-messages',
    messages: turns.map(([role, content, labels], turn) =>
      labels ? { role, content, turn, labels } : { role, content, turn },
    ),
    language: 'en',
    metadata: {},
    ...extra,
  };
}

/** Writes `<workspace>/datasets/<id>/conversations.jsonl`. */
export async function writeDataset(
  workspaceDir: string,
  datasetId: string,
  conversations: readonly Conversation[],
): Promise<string> {
  const folder = join(workspaceDir, 'datasets', datasetId);
  await mkdir(folder, { recursive: true });
  const file = join(folder, 'conversations.jsonl');
  await writeFile(file, conversations.map((item) => `${JSON.stringify({ ...item, datasetId })}\n`).join(''));
  return file;
}
