import { describe, expect, it } from 'vitest';
import { checkRequestAgainstModel } from './model.js';
import { parseInferRequest } from './request.js';
import type { ModelMetadata } from './types.js';

const model: ModelMetadata = {
  name: 'mobilenet',
  platform: 'onnxruntime_onnx',
  inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 3, 2, 2] }],
  outputs: [{ name: 'logits', datatype: 'FP32', shape: [-1, 1000] }],
};
const request = (input: Record<string, unknown>, outputs?: unknown[]) =>
  parseInferRequest(
    new TextEncoder().encode(
      JSON.stringify({
        inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 3, 2, 2], data: new Array(12).fill(0), ...input }],
        ...(outputs ? { outputs } : {}),
      }),
    ),
  );

describe('checkRequestAgainstModel', () => {
  it('accepts any batch size where the model says -1', () => {
    expect(() => checkRequestAgainstModel(request({}), model)).not.toThrow();
    expect(() =>
      checkRequestAgainstModel(request({ shape: [2, 3, 2, 2], data: new Array(24).fill(0) }), model),
    ).not.toThrow();
  });

  const cases: [string, Record<string, unknown>, unknown[] | undefined, string][] = [
    [
      'an unknown input',
      { name: 'image' },
      undefined,
      "inputs[0].name: model 'mobilenet' has no input 'image'; it takes input",
    ],
    [
      'a wrong datatype',
      { datatype: 'FP64' },
      undefined,
      "inputs[0].datatype: model 'mobilenet' takes FP32 for 'input', received FP64",
    ],
    [
      'a wrong shape',
      { shape: [1, 2, 3, 2], data: new Array(12).fill(0) },
      undefined,
      "inputs[0].shape: model 'mobilenet' takes [-1, 3, 2, 2] for 'input' (-1: any size), received [1, 2, 3, 2]",
    ],
    [
      'a missing batch dimension',
      { shape: [3, 2, 2] },
      undefined,
      "inputs[0].shape: model 'mobilenet' takes [-1, 3, 2, 2] for 'input' (-1: any size), received [3, 2, 2]",
    ],
    [
      'an unknown output',
      {},
      [{ name: 'probs' }],
      "outputs[0].name: model 'mobilenet' has no output 'probs'; it has logits",
    ],
  ];
  for (const [what, input, outputs, message] of cases) {
    it(`refuses ${what}`, () => {
      expect(() => checkRequestAgainstModel(request(input, outputs), model)).toThrow(message);
    });
  }

  it('refuses a request that leaves out an input', () => {
    const two = { ...model, inputs: [...model.inputs, { name: 'mask', datatype: 'BOOL' as const, shape: [-1] }] };
    expect(() => checkRequestAgainstModel(request({}), two)).toThrow("inputs: model 'mobilenet' also needs 'mask'");
  });
});
