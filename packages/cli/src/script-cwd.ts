/** This repository's package names: the root's and each package's and app's, whose `mobilenet` script runs the CLI. */
export const WORKSPACE_PACKAGES: ReadonlySet<string> = new Set([
  'mobilenet-ts',
  '@mobilenet/core',
  '@mobilenet/runtime-node',
  '@mobilenet/runtime-web',
  '@mobilenet/tools',
  '@mobilenet/serve',
  '@mobilenet/fleet',
  '@mobilenet/cli',
  '@mobilenet/test-support',
  'demo',
  'bench',
]);

/**
 * Where relative paths are read from: `pnpm mobilenet ...` in this repository runs the `mobilenet` script of the
 * nearest package.json (the root's, or a package's or app's: each has one) from that package's folder, and pnpm says
 * where the user typed the command in INIT_CWD. Only for those scripts (not for any other script that happens to
 * call the binary) is that folder returned; otherwise undefined (the process's own folder stands).
 */
export function scriptCwd(env: NodeJS.ProcessEnv): string | undefined {
  const ours = env.npm_lifecycle_event === 'mobilenet' && WORKSPACE_PACKAGES.has(env.npm_package_name ?? '');
  return ours && env.INIT_CWD ? env.INIT_CWD : undefined;
}
