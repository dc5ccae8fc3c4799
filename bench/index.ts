/**
 * `npm run bench`: every benchmark, one after another, each in its own process (a fresh tfjs, no
 * warm state carried from one to the next). Not part of `npm test`.
 *
 *   npm run bench                                   # all of them but the opt-in ones (soak)
 *   npm run bench -- --only train-generate          # one (repeat --only for several)
 *   npm run bench -- --only backends -- --json      # arguments after a second -- go to each bench
 *   npm run bench -- --list
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const folder = path.dirname(fileURLToPath(import.meta.url));

/**
 * The benchmarks, in the order they run; a file not present (another feature's, not yet written) is
 * skipped. An `optIn` one runs only when named with --only.
 */
const BENCHES: readonly { name: string; file: string; about: string; optIn?: boolean }[] = [
  { name: 'backends', file: 'backends.ts', about: 'matrix products and a small step on every tfjs backend' },
  {
    name: 'model-forward',
    file: 'model-forward.ts',
    about: 'the model core’s fast paths: linear, attention, decoding',
  },
  { name: 'import', file: 'import.ts', about: 'dataset import throughput against a Python reference' },
  {
    name: 'train-generate',
    file: 'train-generate.ts',
    about: 'training and generation tokens/s against PyTorch, and the share of the matmul peak',
  },
  {
    name: 'evaluation-analysis',
    file: 'evaluation-analysis.ts',
    about: 'win-rate bootstraps and the reward map’s projection against plain references',
  },
  {
    name: 'soak',
    file: 'soak.ts',
    about: 'DRIFT on the demo for 30 min: tensors and RSS stay flat (opt-in: --only soak)',
    optIn: true,
  },
];

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split === -1 ? argv : argv.slice(0, split);
const passed = split === -1 ? [] : argv.slice(split + 1);
const only = own.flatMap((value, index) => (own[index - 1] === '--only' ? [value] : []));

if (own.includes('--list')) {
  for (const bench of BENCHES) process.stdout.write(`${bench.name.padEnd(16)}${bench.about}\n`);
  process.exit(0);
}
const unknown = only.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench ${unknown.join(', ')}; --list shows them\n`);
  process.exit(2);
}

let failed = 0;
for (const bench of BENCHES) {
  if (only.length > 0 ? !only.includes(bench.name) : bench.optIn === true) continue;
  const file = path.join(folder, bench.file);
  if (!existsSync(file)) {
    if (only.includes(bench.name)) process.stderr.write(`bench/${bench.file} does not exist yet\n`);
    continue;
  }
  process.stderr.write(`\n=== ${bench.name}: ${bench.about}\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', file, ...passed], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    process.stderr.write(`=== ${bench.name} failed (exit ${run.status ?? run.signal})\n`);
  }
}
process.exit(failed > 0 ? 1 : 0);
