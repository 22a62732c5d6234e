/** A mistake in how the command was called: exit code 2 and one line naming the option, the value and the rule. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/**
 * A value as the user typed it, quoted, on one line and short: a hostile or pasted argument (newlines, control
 * characters, megabytes) must not break the one-line error or flood the terminal.
 */
export function quote(raw: string): string {
  const clean = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}...` : raw).slice(1, -1).replaceAll("'", "\\'");
  return `'${clean}'`;
}

/** `option --NAME: expected RULE, received 'VALUE'`, the one shape of every option error. */
export function optionError(option: string, expected: string, received: string): UsageError {
  return new UsageError(`option ${option}: expected ${expected}, received ${received}`);
}
