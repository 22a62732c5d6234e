import { type ParamFiller, fillNormal, heNormalFill, rng } from '../ir/params.js';

const numel = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/**
 * torchvision's MobileNet initialisation, seeded: conv kaiming-normal (fan-out, ReLU gain), linear normal(0, 0.01),
 * biases 0, BN weight 1 bias 0, statistics 0/1; timm's and TF's layer_scale_init_value (1e-5) for MobileNetV4.
 * That is the builder's generic default recipe, so this is the same stream of values.
 */
export function torchvisionFill(seed: number): ParamFiller {
  return heNormalFill(seed);
}

/**
 * Variance-preserving weights (kaiming normal over fan-in) with randomised BN affine parameters and running
 * statistics. torchvision's fan-out initialisation makes depthwise outputs shrink layer after layer in eval mode
 * (a 96x96 v3-small gives logits near 1e-10, all classes tied); this one keeps activations of order 1, so tests
 * and benchmark validations compare outputs that differ, and a BN mistake shows.
 */
export function fanInFill(seed: number): ParamFiller {
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
        return uniform(0.5, 1.5);
      case 'layer-scale':
        // Gammas near 1 ([0.5, 1.5] until issue #15) grew the hybrids' residual stream block after block: attention
        // logits past 1e5 and float32 activations of 1e10 in the head, so float16 gave NaN and int8 noise. Around 0.1
        // the hybrids stay of order 1 (float16 57 dB from float32) and a LayerScale mistake still shows.
        return uniform(0.05, 0.15);
    }
  };
}
