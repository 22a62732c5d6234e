import { readFileSync } from 'node:fs';
import { type Int8Kernels, cpuFlags, int8Kernels } from '@mobilenet/core';

/** The int8 kernel path onnxruntime's CPU provider takes on this machine, from /proc/cpuinfo (Linux). */
export function int8KernelsHere(): Int8Kernels {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the flags are not known, and the description says so.
  }
  return int8Kernels(cpuFlags(text), process.arch === 'arm64' ? 'arm64' : process.arch);
}
