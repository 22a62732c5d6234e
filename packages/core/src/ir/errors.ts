/**
 * Every error the IR raises names where it happened (a node, an initializer, a file, an option),
 * what was expected and what was received.
 */
export class MobileNetError extends Error {
  constructor(
    readonly code: string,
    readonly where: string,
    readonly expected: string,
    readonly received: string,
    readonly detail?: string,
  ) {
    super(`${where}: expected ${expected}, received ${received}${detail ? ` (${detail})` : ''}`);
    this.name = 'MobileNetError';
  }
}

/** Shape inference failed at a node: the node and the shapes involved are in the message. */
export class ShapeError extends MobileNetError {
  constructor(where: string, expected: string, received: string, detail?: string) {
    super('shape', where, expected, received, detail);
    this.name = 'ShapeError';
  }
}

/** A graph that is not well formed: unknown op, bad attribute, dangling input, duplicate name, bad constant. */
export class GraphError extends MobileNetError {
  constructor(code: string, where: string, expected: string, received: string, detail?: string) {
    super(code, where, expected, received, detail);
    this.name = 'GraphError';
  }
}

/** The file or bytes given to the ONNX reader are not a model we can read. */
export class OnnxFormatError extends MobileNetError {
  constructor(where: string, expected: string, received: string, detail?: string) {
    super('onnx-format', where, expected, received, detail);
    this.name = 'OnnxFormatError';
  }
}

/** A model option with a value outside what is allowed; the message names the option, the value and the rule. */
export class OptionError extends MobileNetError {
  constructor(
    readonly option: string,
    expected: string,
    received: unknown,
  ) {
    super('option', `option ${option}`, expected, typeof received === 'string' ? `'${received}'` : String(received));
    this.name = 'OptionError';
  }
}
