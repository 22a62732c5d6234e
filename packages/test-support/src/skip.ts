/**
 * Gates tests on a capability that was tried, not assumed: `why` is null when it works here. Outside CI a missing
 * capability is the reason the tests skip; in CI, which is set up to have it, it is a failure.
 */
export function skipUnless(
  what: string,
  why: string | null,
  requiredInCi = Boolean(globalThis.process?.env.CI),
): string | null {
  if (why === null) return null;
  if (requiredInCi) throw new Error(`CI requires ${what}: ${why}`);
  return `${what} unavailable: ${why}`;
}
