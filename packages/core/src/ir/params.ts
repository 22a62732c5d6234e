/**
 * Parameter data for graphs as they are built: the builder asks a `ParamFiller` for each parameter by name, shape
 * and kind. (Not an ONNX initializer: those are the constant tensors a graph stores, `Initializer` in tensor.ts.)
 * Fillers are deterministic: each parameter draws from its own stream seeded by (seed, name), so a parameter's
 * values do not depend on which other layers exist or in which order they were built.
 */

export type ParamKind = 'conv' | 'linear' | 'bias' | 'bn-weight' | 'bn-bias' | 'bn-mean' | 'bn-var' | 'layer-scale';

export interface ParamRequest {
  readonly name: string;
  readonly dims: readonly number[];
  readonly kind: ParamKind;
}

/** Supplies the data of a parameter; returning undefined leaves it empty (graphs built for analysis only). */
export type ParamFiller = (req: ParamRequest) => Float32Array | undefined;

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

/**
 * The builder's default: He-normal over fan-out for convs (ReLU gain), N(0, 0.01) for linear layers, zero biases,
 * identity BatchNorm (weight 1, bias 0, statistics 0/1), layer scale 1e-5. Model-specific fillers live in models/.
 */
export function heNormalFill(seed: number): ParamFiller {
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
export const noParams: ParamFiller = () => undefined;
