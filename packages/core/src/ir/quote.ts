/**
 * A name or value in a message, quoted and on one line: file names, node names and strings a file put there may
 * hold newlines, escape sequences (ESC[2J clears a terminal), bidirectional overrides or lone surrogates (a name
 * that was not UTF-8). Each such character is written as \uXXXX, so a message is one line that shows what is there.
 * Longer than `max` characters, the value is cut and ends in '...'. Every message that names something the user
 * or a file gave goes through this one function.
 * @internal
 */
export function quote(raw: string, max = 80): string {
  const short = raw.length > max ? `${raw.slice(0, max)}...` : raw;
  return `'${escapeControls(short)}'`;
}

/**
 * A path in a message: quoted and on one line like any value, but never shortened.
 * @internal
 */
export const quotePath = (path: string): string => quote(path, Infinity);

/**
 * C0 and C1 controls, DEL, line and paragraph separators, bidirectional embeddings, overrides and isolates, and
 * lone surrogates, as \uXXXX; the rest unchanged.
 * @internal
 */
export function escapeControls(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
