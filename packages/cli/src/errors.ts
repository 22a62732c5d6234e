// One quoting function for every name in a message, shared with the libraries' own errors.
export { quote, quotePath } from '@mobilenet/core';

/** A mistake in how the command was called: exit code 2 and one line naming the option, the value and the rule. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/** `option --NAME: expected RULE, received 'VALUE'`, the one shape of every option error. */
export function optionError(option: string, expected: string, received: string): UsageError {
  return new UsageError(`option ${option}: expected ${expected}, received ${received}`);
}
