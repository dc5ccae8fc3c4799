#!/usr/bin/env node
// Entry of `npm run test:e2e`: checks that a Chromium and the built renderer exist, then runs
// the browser tests (vitest.e2e.config.ts). A missing browser fails loudly; it never skips.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function fail(message) {
  console.error(`\n[test:e2e] ${message}\n`);
  process.exit(1);
}

try {
  accessSync(chromiumPath, constants.X_OK);
} catch {
  fail(
    `Chromium not found at ${chromiumPath}. Install it with \`sudo apt-get install -y chromium\` (Debian/Ubuntu) ` +
      'or set CHROMIUM_PATH to a Chromium/Chrome binary.',
  );
}

if (!existsSync(join(root, 'out', 'renderer', 'index.html'))) {
  fail('The renderer is not built: out/renderer/index.html is missing. Run `npm run build` first.');
}

const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const child = spawn(process.execPath, [vitest, 'run', '--config', 'vitest.e2e.config.ts', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CHROMIUM_PATH: chromiumPath },
});
child.on('error', (error) => fail(`Could not start Vitest: ${error.message}`));
child.on('exit', (code, signal) => {
  if (signal) fail(`Vitest was killed by ${signal}.`);
  process.exit(code ?? 1);
});
