// A trained head (core/train) behind a backbone: one graph, written through the IR like every other model.
export { fuseHead, HEAD_OUTPUTS, headGraph, headTensors, type TrainingRecord } from './fuse.js';
