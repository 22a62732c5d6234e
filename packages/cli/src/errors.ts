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
export function quote(raw: string, max = 80): string {
  const short = raw.length > max ? `${raw.slice(0, max)}...` : raw;
  const clean = short.replace(
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return `'${clean}'`;
}

/** A path in a message: quoted and on one line like any value, but never shortened. */
export const quotePath = (path: string): string => quote(path, Infinity);

/** `option --NAME: expected RULE, received 'VALUE'`, the one shape of every option error. */
export function optionError(option: string, expected: string, received: string): UsageError {
  return new UsageError(`option ${option}: expected ${expected}, received ${received}`);
}
