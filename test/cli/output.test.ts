import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { commandError, formatError, Output } from '../../src-main/cli/output.js';

function capture(json: boolean) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const output = new Output(json, { stdout, stderr });
  const read = (stream: PassThrough) => () => (stream.read() as Buffer | null)?.toString() ?? '';
  return { output, stdout: read(stdout), stderr: read(stderr) };
}

describe('Output', () => {
  it('prints human lines on stdout and notes on stderr', () => {
    const { output, stdout, stderr } = capture(false);
    output.note('working…');
    output.result({ ignored: true }, ['first', 'second']);
    expect(stdout()).toBe('first\nsecond\n');
    expect(stderr()).toBe('working…\n');
  });

  it('prints exactly one JSON document with --json and refuses a second', () => {
    const { output, stdout } = capture(true);
    output.result({ url: 'http://127.0.0.1:1/?token=t', port: 1 }, 'ignored');
    expect(() => output.result({ again: true }, 'ignored')).toThrow(/second JSON document/);
    expect(JSON.parse(stdout())).toEqual({ url: 'http://127.0.0.1:1/?token=t', port: 1 });
  });

  it('reports an error on stderr with its hint, and as the JSON document with --json', () => {
    const { output, stdout, stderr } = capture(true);
    const failure = commandError('renderer_not_built', 'No built UI at /x.', 'Run `npm run build` first.');
    output.error(failure.error);
    expect(stderr()).toBe('error [renderer_not_built]: No built UI at /x.\n  hint: Run `npm run build` first.\n');
    expect(JSON.parse(stdout())).toEqual({ ok: false, error: failure.error });
  });

  it('does not add an error document after the result was printed', () => {
    const { output, stdout, stderr } = capture(true);
    output.result({ done: true }, '');
    output.error({ code: 'internal_error', message: 'late' });
    expect(stdout().trim().split('\n')).toHaveLength(1);
    expect(stderr()).toContain('error [internal_error]: late');
  });

  it('falls back to the code hint when an error has none', () => {
    expect(formatError({ code: 'job_not_found', message: 'No job x.' })).toBe(
      'error [job_not_found]: No job x.\n  hint: No job with this id exists in the workspace.\n',
    );
  });
});
