#!/usr/bin/env node
import { main } from './index.js';

// `mobilenet info ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// `pnpm mobilenet ...` in this repository runs from the repository root; pnpm says where the user typed the
// command in INIT_CWD. Only for that script (not for any package script that happens to call the binary), relative
// paths are resolved from where the user typed them.
const env = process.env;
if (env.npm_package_name === 'mobilenet-ts' && env.npm_lifecycle_event === 'mobilenet' && env.INIT_CWD)
  process.chdir(env.INIT_CWD);

process.exitCode = await main(process.argv.slice(2));
