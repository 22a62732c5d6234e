// Checks a parsed request against the model it is sent to: the model's metadata says which inputs it takes, of
// which datatype and shape (-1 for a variable dimension), and which outputs it has.
import { type InferRequest, type ModelMetadata, ProtocolError } from './types.js';

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Refuses a request whose inputs are not exactly the model's (each by name, datatype and shape, a -1 dimension
 * matching any size) or which asks for an output the model does not have. The error names the field.
 */
export function checkRequestAgainstModel(request: InferRequest, model: ModelMetadata): void {
  const wanted = new Map(model.inputs.map((t) => [t.name, t]));
  request.inputs.forEach((input, i) => {
    const meta = wanted.get(input.name);
    if (!meta) {
      throw new ProtocolError(
        `inputs[${i}].name: model '${model.name}' has no input '${input.name}'; it takes ${model.inputs.map((t) => t.name).join(', ')}`,
      );
    }
    if (input.datatype !== meta.datatype) {
      throw new ProtocolError(
        `inputs[${i}].datatype: model '${model.name}' takes ${meta.datatype} for '${input.name}', received ${input.datatype}`,
      );
    }
    const fits =
      input.shape.length === meta.shape.length && meta.shape.every((d, j) => d === -1 || d === input.shape[j]);
    if (!fits) {
      throw new ProtocolError(
        `inputs[${i}].shape: model '${model.name}' takes ${shapeText(meta.shape)} for '${input.name}' (-1: any size), received ${shapeText(input.shape)}`,
      );
    }
  });
  const given = new Set(request.inputs.map((t) => t.name));
  const missing = model.inputs.filter((t) => !given.has(t.name)).map((t) => t.name);
  if (missing.length) {
    throw new ProtocolError(`inputs: model '${model.name}' also needs ${missing.map((n) => `'${n}'`).join(', ')}`);
  }
  const outputs = new Set(model.outputs.map((t) => t.name));
  request.outputs.forEach((o, i) => {
    if (!outputs.has(o.name)) {
      throw new ProtocolError(
        `outputs[${i}].name: model '${model.name}' has no output '${o.name}'; it has ${[...outputs].join(', ')}`,
      );
    }
  });
}
