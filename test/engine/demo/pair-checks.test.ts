/** The demo's checks with the simulator's checker: which evaluation samples fail on form alone. */
import { describe, expect, it } from 'vitest';
import { formFailuresByCheckpoint } from '../../../src-main/engine/demo/pair-checks.js';
import { Random } from '../../../src-main/engine/model/index.js';
import { habitualAnswer, heldOutTasks, oracleAnswer } from '../../../src-main/engine/sim/index.js';

describe('formFailuresByCheckpoint', () => {
  const tasks = heldOutTasks(40, 7);
  const prompts = tasks.map((task) => [{ role: 'user', content: task.prompt }]);

  it('counts the samples wrong in form alone, not the right ones or those wrong in content', () => {
    const random = new Random(3);
    const samples: { prompt: number; text: string }[] = [];
    let habitual = 0;
    tasks.forEach((task, prompt) => {
      samples.push({ prompt, text: oracleAnswer(task, random) });
      samples.push({ prompt, text: 'zzz qqq' });
      const habit = habitualAnswer(task, random);
      if (habit !== null) {
        habitual++;
        samples.push({ prompt, text: habit });
      }
    });
    expect(habitual).toBeGreaterThan(5);
    const counts = formFailuresByCheckpoint(
      {
        prompts,
        checkpoints: [
          { label: 'mixed', samples },
          { label: 'right', samples: tasks.map((task, prompt) => ({ prompt, text: oracleAnswer(task, random) })) },
        ],
      } as unknown as Parameters<typeof formFailuresByCheckpoint>[0],
      tasks,
    );
    expect(counts).toEqual({ mixed: habitual, right: 0 });
  });

  it('says nothing when the evaluation’s prompts are not those tasks', () => {
    const result = { prompts: prompts.slice(1), checkpoints: [] } as unknown as Parameters<
      typeof formFailuresByCheckpoint
    >[0];
    expect(formFailuresByCheckpoint(result, tasks)).toBeNull();
    const shuffled = { prompts: [...prompts].reverse(), checkpoints: [] } as unknown as Parameters<
      typeof formFailuresByCheckpoint
    >[0];
    expect(formFailuresByCheckpoint(shuffled, tasks)).toBeNull();
  });
});
