/**
 * Attributes are tagged with their ONNX kind: JavaScript cannot tell the INT 1 from the FLOAT 1.0,
 * and ONNX runtimes reject the wrong one.
 */
export type Attr =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'string'; readonly value: string };

export type AttrKind = Attr['kind'];

export const int = (value: number): Attr => ({ kind: 'int', value });
export const float = (value: number): Attr => ({ kind: 'float', value });
export const ints = (value: readonly number[]): Attr => ({ kind: 'ints', value });
export const floats = (value: readonly number[]): Attr => ({ kind: 'floats', value });
export const str = (value: string): Attr => ({ kind: 'string', value });

export interface Node {
  readonly name: string;
  readonly op: string;
  /** Value names; '' marks an omitted optional input, as in ONNX. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: Readonly<Record<string, Attr>>;
}

export function attrInt(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.kind === 'int' ? a.value : fallback;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  return a && a.kind === 'float' ? a.value : fallback;
}

export function attrInts(node: Node, name: string, fallback: readonly number[]): readonly number[] {
  const a = node.attrs[name];
  return a && a.kind === 'ints' ? a.value : fallback;
}
