// Which int8 kernels onnxruntime's CPU provider (MLAS) takes on a processor, from its feature flags
// (/proc/cpuinfo on Linux): the ones that multiply u8 x s8 through VPMADDUBSW saturate pair sums in int16.

export type Int8KernelPath = 'amx' | 'avx512-vnni' | 'avx-vnni' | 'avx512' | 'avx2' | 'neon-dot' | 'neon' | 'unknown';

export interface Int8Kernels {
  readonly path: Int8KernelPath;
  /** True where u8 x s8 pair sums saturate at int16 (AVX2 and AVX-512 without VNNI): 'vnni' files lose accuracy. */
  readonly saturates: boolean;
  /** One line for people: the instructions and what follows for int8 files. */
  readonly description: string;
}

const DESCRIPTIONS: Record<Int8KernelPath, string> = {
  amx: 'AMX (TDPBUSD, 32-bit accumulation): every int8 file runs exact',
  'avx512-vnni': 'AVX-512 VNNI (VPDPBUSD, 32-bit accumulation): every int8 file runs exact',
  'avx-vnni': 'AVX-VNNI (VPDPBUSD, 32-bit accumulation): every int8 file runs exact',
  avx512: "AVX-512 without VNNI (VPMADDUBSW, int16 pair sums saturate): use 'portable' int8 files",
  avx2: "AVX2 without VNNI (VPMADDUBSW, int16 pair sums saturate): use 'portable' int8 files",
  'neon-dot': 'ARM64 dot product (SDOT/UDOT, 32-bit accumulation): every int8 file runs exact',
  neon: 'ARM64 NEON (16-bit products widened before they are added): every int8 file runs exact',
  unknown: 'unknown CPU features: int8 kernel path not known; portable int8 files are safe on every path',
};

/** The kernel path of a CPU with these feature flags (`flags` line of /proc/cpuinfo, or `Features` on ARM). */
export function int8Kernels(flags: readonly string[], arch: string): Int8Kernels {
  const has = new Set(flags);
  const path: Int8KernelPath =
    arch === 'arm64'
      ? has.has('asimddp')
        ? 'neon-dot'
        : 'neon'
      : has.has('amx_int8')
        ? 'amx'
        : has.has('avx512_vnni')
          ? 'avx512-vnni'
          : has.has('avx_vnni')
            ? 'avx-vnni'
            : has.has('avx512bw')
              ? 'avx512'
              : has.has('avx2')
                ? 'avx2'
                : 'unknown';
  return { path, saturates: path === 'avx2' || path === 'avx512', description: DESCRIPTIONS[path] };
}

/**
 * The first `flags` (x86) or `Features` (ARM) line of a /proc/cpuinfo text, split into words.
 * @internal
 */
export function cpuFlags(cpuinfo: string): string[] {
  const line = cpuinfo.split('\n').find((l) => /^(flags|Features)\s*:/.test(l));
  return line
    ? line
        .slice(line.indexOf(':') + 1)
        .trim()
        .split(/\s+/)
    : [];
}
