/**
 * Deterministic weight initialisation, as torchvision does it for MobileNets:
 * conv kaiming-normal (fan-out, ReLU gain), linear normal(0, 0.01), biases 0, BN weight 1 bias 0, stats 0/1.
 * Each parameter draws from its own stream seeded by (seed, name), so a parameter's values do not depend on
 * which other layers exist or in which order they were built.
 */

export type ParamKind = 'conv' | 'linear' | 'bias' | 'bn-weight' | 'bn-bias' | 'bn-mean' | 'bn-var' | 'layer-scale';

export interface ParamRequest {
  readonly name: string;
  readonly dims: readonly number[];
  readonly kind: ParamKind;
}

/** Supplies the data of a parameter; returning undefined leaves it empty (graphs built for analysis only). */
export type Initialiser = (req: ParamRequest) => Float32Array | undefined;

function fnv1a(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** sfc32: small, fast, and the same on every JavaScript engine. */
export function rng(seed: number, stream: string): () => number {
  let a = fnv1a(stream, seed);
  let b = fnv1a(stream, seed ^ 0x9e3779b9);
  let c = fnv1a(stream, seed ^ 0x85ebca6b);
  let d = 1;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

export function fillNormal(out: Float32Array, std: number, next: () => number): Float32Array {
  for (let i = 0; i < out.length; i += 2) {
    const u = 1 - next();
    const r = std * Math.sqrt(-2 * Math.log(u));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t);
    if (i + 1 < out.length) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** torchvision's MobileNet initialisation, seeded. */
export function torchvisionInit(seed: number): Initialiser {
  return ({ name, dims, kind }) => {
    const out = new Float32Array(numel(dims));
    switch (kind) {
      case 'conv': {
        // kaiming_normal_(mode='fan_out'): std = sqrt(2 / (out_channels * kh * kw))
        const fanOut = (dims[0] ?? 1) * numel(dims.slice(2));
        return fillNormal(out, Math.sqrt(2 / fanOut), rng(seed, name));
      }
      case 'linear':
        return fillNormal(out, 0.01, rng(seed, name));
      case 'bn-weight':
      case 'bn-var':
        return out.fill(1);
      case 'layer-scale':
        return out.fill(1e-5); // timm's and TF's layer_scale_init_value for MobileNetV4
      default:
        return out;
    }
  };
}

/** No data: enough for shapes, MACs and parameter counts. */
export const noWeights: Initialiser = () => undefined;

/**
 * Variance-preserving weights (kaiming normal over fan-in) with randomised BN affine parameters and running
 * statistics. torchvision's fan-out initialisation makes depthwise outputs shrink layer after layer in eval mode
 * (a 96x96 v3-small gives logits near 1e-10, all classes tied); this one keeps activations of order 1, so tests
 * and benchmark validations compare outputs that differ, and a BN mistake shows.
 */
export function fanInInit(seed: number): Initialiser {
  return ({ name, dims, kind }) => {
    const out = new Float32Array(numel(dims));
    const next = rng(seed, name);
    const uniform = (lo: number, hi: number) => out.map(() => lo + (hi - lo) * next());
    switch (kind) {
      case 'conv':
        return fillNormal(out, Math.sqrt(2 / numel(dims.slice(1))), next);
      case 'linear':
        return fillNormal(out, Math.sqrt(1 / (dims[1] ?? 1)), next);
      case 'bias':
        return uniform(-0.1, 0.1);
      case 'bn-weight':
        return uniform(0.5, 1.5);
      case 'bn-bias':
        return uniform(-0.2, 0.2);
      case 'bn-mean':
        return uniform(-0.1, 0.1);
      case 'bn-var':
      case 'layer-scale':
        return uniform(0.5, 1.5);
    }
  };
}
