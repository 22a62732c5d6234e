// Core's test helpers for the workspace's tests: the dev-only subpath `@mobilenet/core/testing` (not in
// publishConfig's exports, not in the tarball). Other packages import them by this name, never by a path.
import { resolve } from 'node:path';

/** Core's fixture files (checkpoints, key lists, golden outputs), made by the scripts in tools/fixtures. */
export const CORE_FIXTURES = resolve(import.meta.dirname, 'fixtures');

export { TINY, TINY_CHANNELS } from './fixtures/tiny-family.js';
export { P, type Op, type TensorSpec, f32bytes, pickle, stateDictPickle, tensorOps } from './fuzz/pickles.js';
export {
  type FormulaLogits,
  fnv1a32,
  formulaCheckpoint,
  formulaFill,
  formulaInput,
  formulaRange,
  formulaTensor,
  formulaUniform,
  relError,
} from './testing-formula.js';
export {
  type CheckResult,
  makeZip,
  onnxCheck,
  onnxCheckStream,
  pythonOnnxMissing,
  pythonTorchMissing,
  REPO,
  runFixtureScript,
  runOrt,
} from './testing.js';
export { type Planted, SSD_ANCHORS, SSD_METADATA, tinyDetector, tinySegmenter } from './dense-models.js';
// scikit-learn's heads on real images (tools/fixtures/sklearn_heads.py): the demo's Node-vs-Chromium training check.
export { type HeadsFixture, type SklearnCase, features, readHeads } from './fixtures/train/read.js';
