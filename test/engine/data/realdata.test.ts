/**
 * The real samples in ../shared/realdata (read-only fixtures, see SOURCES.md): each file is
 * detected as its format and imports with no rejected row. Skipped, visibly, where the shared
 * folder is absent.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openEngine, type ImportResult } from '../../../src-main/engine/index.js';
import { expandPaths } from '../../../src-main/engine/data/files.js';
import { loadLanguageDetector } from '../../../src-main/engine/data/language.js';
import { resolveLimits } from '../../../src-main/engine/data/limits.js';
import { ConversationFinisher } from '../../../src-main/engine/data/pipeline.js';
import { FileReader } from '../../../src-main/engine/data/reader.js';
import { makeTempDir, removeTempDirs } from './helpers.js';

const REAL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../shared/realdata');
const present = existsSync(REAL);

/** file → [format, conversations]; the counts are the record counts in SOURCES.md. */
const EXPECTED: Record<string, [string, number]> = {
  'chatbot-arena/arena-hard-v2.0-question.jsonl': ['instruction', 750],
  'hh-rlhf/harmless-base-test.jsonl.gz': ['hh-rlhf', 2312],
  'kto-binary-feedback/kto_en_demo.json': ['kto', 300],
  'lmsys-chat/lmsys_1000.jsonl': ['lmsys-chat', 191],
  'openai-messages/arena-hard-v0.1-gpt-4-0314.jsonl': ['openai', 500],
  'sharegpt-preference/dpo_en_demo.json': ['sharegpt', 300],
  'sharegpt-preference/dpo_zh_demo.json': ['sharegpt', 300],
  'ultrafeedback-binarized/train_clean.jsonl': ['ultrafeedback-binarized', 1000],
  'user-feedback-likes/nlpcc2023-task9-dev.jsonl': ['reply-likes', 2000],
  'wildchat/wildchat_hard_ru.json': ['instruction', 1077],
};

afterAll(removeTempDirs);

describe.skipIf(!present)(
  `real samples in ../shared/realdata${present ? '' : ' (skipped: the folder is absent)'}`,
  () => {
    it.each(Object.entries(EXPECTED))(
      '%s is detected and imports without rejections',
      async (relative, [format, count]) => {
        const file = path.join(REAL, relative);
        const { files } = await expandPaths([file]);
        const limits = resolveLimits();
        const reader = new FileReader(files[0]!, { limits });
        const finisher = new ConversationFinisher({ redact: false, language: null, limits });
        let conversations = 0;
        const rejected: unknown[] = [];
        for await (const batch of reader.outcomes()) {
          for (const outcome of batch) {
            if (outcome.kind === 'error') rejected.push(outcome.error);
            if (outcome.kind !== 'draft') continue;
            const finished = finisher.finish(outcome.draft, outcome.location, reader.format!.name);
            if (finished.ok) conversations++;
            else rejected.push(finished.error);
          }
        }
        expect(reader.format?.name).toBe(format);
        expect(reader.detection?.confidence).toBe(1);
        expect(rejected).toEqual([]);
        expect(conversations).toBe(count);
      },
    );

    it('imports the whole folder as one dataset with the language facet', async () => {
      const workspace = await makeTempDir('drift-realdata-ws-');
      const engine = await openEngine({ workspaceDir: workspace, host: 'cli' });
      try {
        const job = await engine.runJob('dataset.import', { paths: [REAL] });
        expect(job.status).toBe('succeeded');
        const result = job.result as ImportResult;
        const total = Object.values(EXPECTED).reduce((sum, [, count]) => sum + count, 0);
        expect(result).toMatchObject({ conversations: total, rejected: 0 });
        expect(result.languages['en']).toBeGreaterThan(4000);
        expect(result.languages['zh']).toBeGreaterThan(1500);
        expect(result.languages['ru']).toBeGreaterThan(1000);
      } finally {
        await engine.close();
      }
    });

    it('tells English, Russian and Chinese apart', async () => {
      const detect = await loadLanguageDetector();
      expect(detect('Beside the sanctions that target individuals, please elaborate on the other types.')).toBe('en');
      expect(detect('Ответь на несколько вопросов по физиологии.')).toBe('ru');
      expect(detect('你的声音好好听啊')).toBe('zh');
    });
  },
);
