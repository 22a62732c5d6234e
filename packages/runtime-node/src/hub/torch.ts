import { join } from 'node:path';
import { hashPrefixOf } from '@mobilenet/core';
import { download } from './download.js';
import type { HubSettings } from './settings.js';

/**
 * torch.hub's checkpoint cache (`torch.hub.load_state_dict_from_url`): `$TORCH_HOME/hub/checkpoints/<file name>`,
 * the file name being the URL's last segment. A file there is used as it is (PyTorch checks the hash only when it
 * downloads; we check it on every read, see pretrained.ts). Our partial download is `<file>.partial` beside it.
 */
export const torchCachePath = (s: HubSettings, file: string) => join(s.torchCheckpoints, file);

export async function fetchTorchFile(s: HubSettings, url: URL, file: string, what: string) {
  const target = torchCachePath(s, file);
  const prefix = hashPrefixOf(file);
  return download(
    {
      url,
      target,
      partial: `${target}.partial`,
      lock: `${target}.mobilenet.lock`,
      expected: prefix ? { sha256Prefix: prefix } : {},
      name: what,
      maxBytes: s.maxBytes,
      lockWaitMs: s.lockWaitMs,
      ...(s.onProgress && { onProgress: s.onProgress }),
    },
    s.http,
  );
}
