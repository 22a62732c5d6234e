import { backendNames } from '@mobilenet/runtime-node';
import { EXIT } from '../errors.js';
import { backendOption } from '../image-run.js';
import type { Io } from '../io.js';
import { between, integer } from '../numbers.js';
import { type OptionSpec, parse } from '../parse.js';
import { QUEUE_OPTIONS, address, queueName } from './fleet-options.js';

const WORKER_OPTIONS = {
  queue: QUEUE_OPTIONS.queue,
  'queue-name': QUEUE_OPTIONS['queue-name'],
  concurrency: { type: 'string', expects: 'an integer from 1 to 64' },
  backend: { type: 'string', expects: `one of ${backendNames().join(', ')}` },
  lock: { type: 'string', expects: 'seconds from 1 to 3600' },
} as const satisfies OptionSpec;

export const WORKER_HELP = `Usage: mobilenet worker --queue redis://HOST:PORT/DB [options]

Takes chunks of images from the queue (put there by 'mobilenet classify|embed ... --queue') and runs them through
the folder pipeline, on this machine. It loads the model each job names (a file at the same path on every machine,
or a pretrained name), checked against the job's hash, and keeps it for the next jobs. Each image's result is
written once, keyed by its content hash. Start one per machine (or per GPU); stop with SIGTERM or Ctrl-C: the
chunk in hand is finished first (a second signal stops at once; the chunk is then taken over by another worker).
  --queue URL         the Redis that holds the queue
  --queue-name Q      the queue (default mobilenet)
  --concurrency N     chunks at once in this process, 1 to 64 (default 1)
  --backend B         ${backendNames().join('|')} (default cpu)
  --lock S            seconds a chunk's lock lives unrenewed (renewed every S/2 while it runs); a worker that died
                      is noticed after about S and its chunk goes back to the queue (default 30)
`;

/** `mobilenet worker`: runs until SIGTERM/SIGINT. */
export async function worker(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, WORKER_OPTIONS);
  if (values.help) return (io.out(WORKER_HELP), EXIT.ok);
  const a = address(values.queue);
  const name = queueName(values['queue-name']);
  const concurrency = integer('concurrency', values.concurrency, between(1, 64)) ?? 1;
  const backend = backendOption(values.backend);
  const lockS = integer('lock', values.lock, between(1, 3600)) ?? 30;
  const { startWorker } = await import('@mobilenet/fleet');
  const w = await startWorker({
    address: a,
    queue: name,
    concurrency,
    backend,
    lockMs: lockS * 1000,
    log: (t) => io.err(`mobilenet worker: ${t}\n`),
  });
  io.err(
    `mobilenet worker: taking chunks from ${a.shown} queue '${name}' (pid ${process.pid}, ${backend}, ${concurrency} at once)\n`,
  );
  let stop: NodeJS.Signals | undefined;
  const onSignal = (s: NodeJS.Signals) => {
    if (stop) {
      io.err(
        `mobilenet worker: ${s} again: stopping now; the chunk in hand goes back to the queue when its lock expires\n`,
      );
      void w.kill().then(() => process.exit(s === 'SIGINT' ? EXIT.sigint : EXIT.sigterm));
      return;
    }
    stop = s;
    io.err(`mobilenet worker: ${s}: finishing the chunk in hand, then stopping\n`);
    void w.close();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  await w.closed;
  process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  return stop === 'SIGINT' ? EXIT.sigint : EXIT.sigterm;
}
