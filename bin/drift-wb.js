#!/usr/bin/env node
// The `drift-wb` command. Runs the TypeScript CLI through tsx (the engine's job workers load the
// same sources with `--import tsx`); the packaged desktop app uses a bundled build instead.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/index.ts');
const exitCode = await main(process.argv);
process.exitCode = exitCode;
// Let stdout and stderr drain; if a stray handle keeps the loop alive, leave anyway.
setTimeout(() => process.exit(exitCode), 2000).unref();
