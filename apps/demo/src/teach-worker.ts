// Trains a head off the page's main thread: the same trainHead as Node (pure TypeScript), so the same inputs and seed
// give the same weights bit for bit. Messages: { options } in; { epoch } per epoch, then { head } or { error } out.
import { type TrainHeadOptions, trainHead } from '@mobilenet/core';

self.onmessage = (e: MessageEvent<{ options: Omit<TrainHeadOptions, 'onEpoch'> }>) => {
  try {
    const head = trainHead({ ...e.data.options, onEpoch: (epoch) => self.postMessage({ epoch }) });
    self.postMessage({ head });
  } catch (err) {
    self.postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
