import type { Document, LineCounter, Node } from 'yaml';
import { yaml } from '../util/yaml';
import { SourceLocation } from './errors';

const { isAlias, isMap, isScalar, isSeq } = yaml;

/** One step of a field path: a mapping key or a list index. */
export type PathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$-]*$/;

/**
 * Renders a field path the way validateSpec names fields: `masters[1].address`; the whole spec is
 * `(spec)`; a key that is not a plain name is quoted, `apiServer["bad key"]`.
 */
export function formatPath(segments: readonly PathSegment[]): string {
  if (segments.length === 0) return '(spec)';
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENTIFIER.test(s)) out += out ? `.${s}` : s;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

/**
 * Parses a field path written by formatPath or validateSpec back into segments. Best effort for keys
 * validateSpec writes unquoted (one with a dot reads as two segments): SourceMap.locate then stops at
 * the nearest node that exists, so a location is always found.
 */
export function parsePath(path: string): PathSegment[] {
  if (path === '(spec)' || path === '') return [];
  const out: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([^.[\]]+)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) out.push(Number(m[1]));
    else if (m[3] !== undefined) out.push(m[3]);
    else {
      try {
        out.push(JSON.parse(m[2]) as string);
      } catch {
        break;
      }
    }
  }
  return out;
}

/** Maps field paths of a parsed YAML document to positions in its text. */
export class SourceMap {
  /**
   * @param doc the parsed document
   * @param lines the LineCounter it was parsed with
   * @param text the text it was parsed from
   * @param file file name shown in locations
   */
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
    public readonly file: string,
  ) {}

  /** The location of an offset in the text. */
  public at(offset: number): SourceLocation {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, col };
  }

  /**
   * Where a field is: its value, or with `onKey` its key (for an unknown field). A path that does not
   * exist in the file (a missing field) points at the nearest enclosing node that does.
   */
  public locate(segments: readonly PathSegment[], onKey = false): SourceLocation {
    const found = this.find(segments);
    const node = onKey && found.complete ? found.key ?? found.node : found.node ?? found.key;
    return this.at(node?.range?.[0] ?? this.doc.contents?.range?.[0] ?? 0);
  }

  /** The source text of a scalar field as written (e.g. `1.30` for a value YAML read as 1.3). */
  public rawText(segments: readonly PathSegment[]): string | undefined {
    const { node, complete } = this.find(segments);
    if (!complete || !isScalar(node) || !node.range) return undefined;
    return this.text.slice(node.range[0], node.range[1]);
  }

  private find(segments: readonly PathSegment[]): { node?: Node; key?: Node; complete: boolean } {
    let node: Node | undefined = this.doc.contents ?? undefined;
    let key: Node | undefined;
    for (const seg of segments) {
      const container: Node | undefined = isAlias(node) ? node.resolve(this.doc) ?? node : node;
      let next: { node?: Node; key?: Node } | undefined;
      if (isMap(container)) {
        const pair = container.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair) next = { node: (pair.value as Node | null) ?? undefined, key: pair.key as Node };
      } else if (isSeq(container) && typeof seg === 'number' && seg < container.items.length) {
        next = { node: (container.items[seg] as Node | null) ?? undefined };
      }
      if (!next) return { node: node ?? key, key, complete: false };
      node = next.node;
      key = next.key ?? node;
    }
    return { node, key, complete: true };
  }
}
