import { readFileSync } from 'node:fs';

/**
 * The CLI's version, read from its package.json at run time: the file is one folder above both src/ (run from
 * source) and dist/ (installed), and it is always published with the package.
 */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}
