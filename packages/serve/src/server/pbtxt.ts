// A reader of protobuf text format (what Triton's config.pbtxt is), enough for a model configuration: fields
// `name: value` and `name { ... }` (the colon optional before a message), lists `[a, b]`, strings in single or
// double quotes with C escapes, numbers, identifiers (enum values, true/false), `#` comments. A field given more
// than once becomes a list. It knows no schema: the repository reader picks the fields it needs and checks them.

/** A parsed message: each field's value, or values when it was repeated. */
export interface TextMessage {
  [field: string]: TextValue | TextValue[];
}
export type TextValue = string | number | boolean | TextMessage;

type Token = { kind: 'punct' | 'ident' | 'string' | 'number'; text: string; line: number };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' };

function tokenize(text: string, where: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\n') line++;
    if (/\s/.test(c)) i++;
    else if (c === '#') while (i < text.length && text[i] !== '\n') i++;
    else if ('{}[]:,;<>'.includes(c)) tokens.push({ kind: 'punct', text: c, line }), i++;
    else if (c === '"' || c === "'") {
      let s = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\n') throw new Error(`${where}:${line}: a string runs past the end of its line`);
        if (text[i] === '\\') {
          i++;
          s += ESCAPES[text[i]!] ?? text[i];
        } else s += text[i];
        i++;
      }
      if (i >= text.length) throw new Error(`${where}:${line}: a string is not closed`);
      i++;
      tokens.push({ kind: 'string', text: s, line });
    } else {
      const m = /^[-+]?[A-Za-z0-9_.]+/.exec(text.slice(i));
      if (!m) throw new Error(`${where}:${line}: unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: /^[-+]?[0-9.]/.test(m[0]) ? 'number' : 'ident', text: m[0], line });
      i += m[0].length;
    }
  }
  return tokens;
}

/** Parses a text-format message; errors name the file and line. */
export function parseTextProto(text: string, where: string): TextMessage {
  const tokens = tokenize(text, where);
  let at = 0;
  const fail = (msg: string): never => {
    throw new Error(`${where}:${tokens[at]?.line ?? 'end'}: ${msg}`);
  };
  const scalar = (): TextValue => {
    const t = tokens[at++] ?? fail('a value is missing');
    if (t.kind === 'string') {
      let s = t.text;
      while (tokens[at]?.kind === 'string') s += tokens[at++]!.text; // adjacent strings concatenate
      return s;
    }
    if (t.kind === 'number') {
      const n = Number(t.text);
      return Number.isFinite(n) ? n : fail(`'${t.text}' is not a number`);
    }
    if (t.kind === 'ident') return t.text === 'true' ? true : t.text === 'false' ? false : t.text;
    if (t.text === '{' || t.text === '<') return message(t.text === '{' ? '}' : '>');
    return fail(`unexpected '${t.text}'`);
  };
  const message = (close: string | null): TextMessage => {
    const m: TextMessage = Object.create(null);
    for (;;) {
      const t = tokens[at];
      if (!t) return close === null ? m : fail(`'${close}' is missing`);
      if (t.kind === 'punct' && t.text === close) return (at++, m);
      if (t.kind !== 'ident') fail(`expected a field name, found '${t.text}'`);
      at++;
      if (tokens[at]?.text === ':') at++;
      let values: TextValue[];
      const isList = tokens[at]?.kind === 'punct' && tokens[at]?.text === '[';
      // `[...]` is a list even of one element; a field repeated without brackets becomes one too.
      if (isList) {
        at++;
        values = [];
        while (tokens[at]?.text !== ']') {
          values.push(scalar());
          if (tokens[at]?.text === ',') at++;
          else if (tokens[at]?.text !== ']') fail(`expected ',' or ']' in the list of '${t.text}'`);
        }
        at++;
      } else values = [scalar()];
      const prior = m[t.text];
      m[t.text] =
        prior === undefined && !isList ? values[0]! : [...(prior === undefined ? [] : list(prior)), ...values];
      if (tokens[at]?.text === ',' || tokens[at]?.text === ';') at++;
    }
  };
  return message(null);
}

/** A field as a list (absent: empty). */
export const list = (v: TextValue | TextValue[] | undefined): TextValue[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];
