// Node only: WebGPU tests without a GPU run Dawn on SwiftShader, the Vulkan driver on the CPU that Debian's chromium
// package ships (.ci/run installs it, and libvulkan1 for the loader).
import { existsSync } from 'node:fs';
import { skipUnless } from './skip.js';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points Vulkan at SwiftShader unless VK_ICD_FILENAMES already names a driver. Returns null when there is a driver,
 * else the reason the tests skip (outside CI; in CI a missing driver throws).
 */
export function useSwiftShader(): string | null {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return skipUnless(
    'WebGPU on SwiftShader',
    process.env.VK_ICD_FILENAMES
      ? null
      : `no Vulkan driver: set VK_ICD_FILENAMES or apt-get install chromium (for ${SWIFTSHADER_ICD})`,
  );
}
