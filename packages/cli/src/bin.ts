#!/usr/bin/env node
import { main } from './index.js';
import { scriptCwd } from './script-cwd.js';

// `mobilenet info ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// `pnpm mobilenet ...` from any folder of this repository: relative paths from where the user typed it.
const cwd = scriptCwd(process.env);
if (cwd) process.chdir(cwd);

process.exitCode = await main(process.argv.slice(2));
