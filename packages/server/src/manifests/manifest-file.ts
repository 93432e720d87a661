import { Manifest, MANIFEST_SECTIONS, Name } from '@lethe/api';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { compileCheck, type SchemaProblem } from '../lib/schema-check.js';
import { stringOptions } from '../lib/string-options.js';

/** The manifest schema is `Manifest` in `@lethe/api` (one definition for the CLI and the server). */
const manifestSchema = compileCheck(Manifest);

/** A problem in a manifest, located by file, line and path (`policies[2].retention`). */
export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${file}${line !== undefined ? `:${line}` : ''}: ${path ? `${path}: ` : ''}${problem}`);
  }
}

export interface ParsedManifest {
  readonly manifest: Manifest;
  /** Line of each entry, to point at the entry the server refused. */
  lineOf(path: readonly (string | number)[]): number | undefined;
}

export function parseManifest(file: string, text: string): ParsedManifest {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  /** Line of the node at `path`, or of its nearest ancestor that exists (for a missing key). */
  const lineOf = (path: readonly (string | number)[]): number | undefined => {
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      if (offset !== undefined) return lineCounter.linePos(offset).line;
    }
    return undefined;
  };
  const [syntax] = document.errors;
  if (syntax) {
    const line = lineCounter.linePos(syntax.pos[0]).line;
    throw new ManifestError(file, line, '', syntax.message.split('\n')[0] ?? 'invalid YAML');
  }
  const value: unknown = document.toJS() ?? {};
  if (!manifestSchema.check(value)) {
    // An unknown key explains a missing one better than the other way round (a typo: `retentoin`).
    const problems = manifestSchema.problems(value);
    const first = problems.find((problem) => problem.kind === 'unexpected') ?? problems[0];
    const segments = (first?.path ?? '')
      .split('/')
      .filter(Boolean)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    throw new ManifestError(file, lineOf(segments), displayPath(segments), describeProblem(first, segments));
  }
  return { manifest: value, lineOf };
}

/** The schema's own words for what it wants, where TypeBox's message would only quote a regex. */
function describeProblem(problem: SchemaProblem | undefined, segments: readonly (string | number)[]): string {
  if (problem?.kind === 'unexpected') return `unknown property "${segments.at(-1)}"`;
  const name = stringOptions(Name);
  if (problem?.kind === 'pattern' && problem.schema['pattern'] === name.pattern) {
    return `${JSON.stringify(problem.value)} is not a valid name: ${name.description}`;
  }
  return problem?.message ?? 'invalid';
}

export function displayPath(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Where an entry of a merged manifest came from: its file and its path in that file. */
export interface EntryOrigin {
  readonly file: string;
  readonly parsed: ParsedManifest;
  readonly path: (string | number)[];
}

/**
 * Several manifest files as one: their lists are concatenated in file order, the single objects
 * (organisation, taxonomy) may appear in one file only. `originOf('systems[5]')` finds the file and
 * line of the entry the server refers to.
 */
export function mergeManifests(files: readonly { file: string; parsed: ParsedManifest }[]): {
  manifest: Manifest;
  readonly originOf: (path: string) => EntryOrigin | undefined;
} {
  const merged: Record<string, unknown> = {};
  const origins = new Map<string, EntryOrigin>();
  for (const { file, parsed } of files) {
    for (const section of MANIFEST_SECTIONS) {
      const value = parsed.manifest[section];
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        const list = (merged[section] ??= []) as unknown[];
        value.forEach((item, index) => {
          origins.set(`${section}[${list.length}]`, { file, parsed, path: [section, index] });
          list.push(item);
        });
      } else {
        const other = origins.get(section);
        if (other) {
          throw new ManifestError(
            file,
            parsed.lineOf([section]),
            section,
            `already declared in ${other.file}`,
          );
        }
        origins.set(section, { file, parsed, path: [section] });
        merged[section] = value;
      }
    }
  }
  return { manifest: merged, originOf: (path) => origins.get(path) };
}
