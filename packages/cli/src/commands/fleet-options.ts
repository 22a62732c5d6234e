import { type QueueAddress, QueueAddressError, parseQueueAddress } from '@mobilenet/fleet';
import { optionError, quote } from '../errors.js';
import type { OptionSpec } from '../parse.js';

/** The options classify and embed take to run on a fleet (the producer side); see fleet.ts. */
export const QUEUE_OPTIONS = {
  queue: { type: 'string', expects: 'redis://HOST:PORT/DB' },
  'queue-name': { type: 'string', expects: 'a queue name (letters, digits, - and _)' },
  chunk: { type: 'string', expects: 'an integer from 1 to 10000' },
  detach: { type: 'boolean' },
  'max-attempts': { type: 'string', expects: 'an integer from 1 to 100' },
} as const satisfies OptionSpec;

export const QUEUE_HELP = `  --queue URL         run on a fleet: enqueue chunks of images on the BullMQ queue at redis://HOST:PORT/DB for
                      'mobilenet worker' processes, follow them, then write the same output as a local run
                      (--model must be a file every worker sees at the same path, or a pretrained name)
  --queue-name Q      the queue (default mobilenet)
  --chunk N           images per job (default 64)
  --max-attempts N    tries per chunk, worker crashes included; then its images are named as failed (default 3)
  --detach            enqueue and exit; 'mobilenet queue collect' writes the output later`;

/** A fleet option without --queue is a mistake, not something to ignore. */
export function queueOnly(
  values: { readonly queue?: string } & Partial<Record<keyof typeof QUEUE_OPTIONS, unknown>>,
): void {
  const stray = (Object.keys(QUEUE_OPTIONS) as (keyof typeof QUEUE_OPTIONS)[]).find(
    (k) => k !== 'queue' && values[k] !== undefined,
  );
  if (stray && values.queue === undefined) throw optionError(`--${stray}`, '--queue URL to go with it', 'no --queue');
}

/** --queue-name's value (default mobilenet). */
export const queueName = (v: string | undefined): string => {
  const name = v ?? 'mobilenet';
  if (!/^[\w-]{1,64}$/.test(name))
    throw optionError('--queue-name', 'letters, digits, - and _ (up to 64)', quote(name));
  return name;
};

/** --queue's Redis address, refused with the reason when it is not redis://HOST:PORT/DB. */
export function address(v: string | undefined): QueueAddress {
  if (v === undefined) throw optionError('--queue', 'redis://HOST:PORT/DB', 'nothing');
  try {
    return parseQueueAddress(v);
  } catch (e) {
    if (e instanceof QueueAddressError)
      throw optionError(
        '--queue',
        'redis://HOST:PORT/DB',
        `${quote(v)} (${e.message.replace(/^.*\(/, '').replace(/\)$/, '')})`,
      );
    throw e;
  }
}
