/**
 * The bundle's Python scripts: templates.ts embeds exactly the .py files in templates/ (rerun
 * `node --import tsx src-main/engine/export/trl/sync-templates.ts` after editing one), every one
 * compiles, and the guided prompt and post-processing are gen-drift.py's (drift-paper.md §1.3).
 */
import { execFileSync } from 'node:child_process';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRL_TEMPLATES } from '../../../src-main/engine/export/trl/templates.js';
import { TEMPLATES_FOLDER } from '../../../src-main/engine/export/trl/sync-templates.js';

/** Runs Python code with the templates folder on its path; returns stdout. */
function python(code: string): string {
  return execFileSync('python3', ['-c', code], {
    cwd: TEMPLATES_FOLDER,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
}

describe('TRL templates', () => {
  it('embeds every .py file of templates/ verbatim', async () => {
    const names = (await readdir(TEMPLATES_FOLDER)).filter((name) => name.endsWith('.py')).sort();
    expect(Object.keys(TRL_TEMPLATES).sort()).toEqual(names);
    for (const name of names) {
      expect(TRL_TEMPLATES[name], `${name} is out of sync; rerun sync-templates.ts`).toBe(
        await readFile(path.join(TEMPLATES_FOLDER, name), 'utf8'),
      );
    }
  });

  it('compiles every script with python3', () => {
    const files = Object.keys(TRL_TEMPLATES).map((name) => path.join(TEMPLATES_FOLDER, name));
    // py_compile's check without writing __pycache__ into the source tree.
    const code = `import sys\nfor f in sys.argv[1:]: compile(open(f, encoding="utf-8").read(), f, "exec")`;
    expect(() => execFileSync('python3', ['-c', code, ...files], { encoding: 'utf8' })).not.toThrow();
  });

  it('builds gen-drift.py’s guided and plain prompts and keeps the text after the last "Assistant: "', () => {
    const record = {
      prompt: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Capital of Australia?' },
        { role: 'assistant', content: 'Let me think.' },
        { role: 'user', content: 'Well?' },
      ],
      rejected: [{ role: 'assistant', content: 'Sydney.' }],
      user_preference: { role: 'user', content: 'Wrong.' },
    };
    const output = JSON.parse(
      python(
        [
          'import json, drift_data',
          `record = json.loads(${JSON.stringify(JSON.stringify(record))})`,
          'print(json.dumps({"guided": drift_data.guided_prompt(record), "plain": drift_data.plain_prompt(record["prompt"]),',
          '  "cut": drift_data.extract_response(drift_data.guided_prompt(record) + " Canberra. \\nUser: thanks\\nAssistant: Canberra, surely."),',
          '  "whole": drift_data.extract_response("  no marker  ")}))',
        ].join('\n'),
      ),
    ) as Record<string, string>;
    const context = 'Be brief.\n\nUser: Capital of Australia?\nAssistant: Let me think.\nUser: Well?\n';
    expect(output['plain']).toBe(`${context}Assistant: `);
    expect(output['guided']).toBe(
      `${context}Assistant: Sydney.\nUser: Wrong.\n` +
        "System: Based on the user's latest feedback, please provide an improved response that addresses their concerns.\n" +
        'Assistant: ',
    );
    // No stop sequence: a continued dialogue is cut at the model's own last "Assistant: " (§1.3 hazard).
    expect(output['cut']).toBe('Canberra, surely.');
    expect(output['whole']).toBe('no marker');
  });

  it('checks rows against DRIFT’s and TRL’s schemas', () => {
    const output = python(
      [
        'import drift_data',
        'ok = {"prompt": [{"role": "user", "content": "q"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}',
        'bad = {"prompt": "q", "chosen": [{"role": "user", "content": "a"}], "rejected": []}',
        'print(drift_data.preference_row_errors(ok))',
        'print(len(drift_data.preference_row_errors(bad)))',
        'print(drift_data.test_count(7, 100, 0.2), drift_data.test_count(1000, 100, 0.2))',
      ].join('\n'),
    );
    expect(output.trim().split('\n')).toEqual(['[]', '3', '1 100']);
  });
});
