// Old names kept so code written against them keeps compiling; each says what replaced it.
import { type ParamFiller, noParams } from './ir/params.js';
import { fanInFill, torchvisionFill } from './models/fill.js';

/** @deprecated Renamed `ParamFiller` (one letter from ONNX's `Initializer` was too close). */
export type Initialiser = ParamFiller;
/** @deprecated Use `torchvisionFill`. */
export const torchvisionInit = torchvisionFill;
/** @deprecated Use `fanInFill`. */
export const fanInInit = fanInFill;
/** @deprecated Use `noParams`. */
export const noWeights = noParams;
