import { PolicyInput, SystemInput } from '@lethe/api';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { isNode, LineCounter, parseDocument } from 'yaml';

/**
 * The manifest: the data map and policies as code. Lists of named entries, so that a diff reads
 * like the change it makes:
 *
 *   policies:
 *     - name: user-account-access
 *       purpose: essential.account
 *       retention: P2Y
 *       legalBasis: contract
 *   systems:
 *     - name: accounts
 *       team: identity
 *       datasets:
 *         - name: accounts
 *           fields:
 *             - { name: email, categories: [user.contact.email] }
 */
const Named = Type.Object({ name: Type.String({ minLength: 1 }) });
export const Manifest = Type.Object(
  {
    policies: Type.Optional(
      Type.Array(Type.Composite([Named, PolicyInput], { additionalProperties: false })),
    ),
    systems: Type.Optional(Type.Array(Type.Composite([Named, SystemInput], { additionalProperties: false }))),
  },
  { additionalProperties: false },
);
export type Manifest = Static<typeof Manifest>;

const manifestSchema = TypeCompiler.Compile(Manifest);

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
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (path: readonly (string | number)[]) => {
    const node = document.getIn(path, true);
    const offset = isNode(node) ? node.range?.[0] : undefined;
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  const [syntax] = document.errors;
  if (syntax) {
    const line = syntax.linePos?.[0].line;
    throw new ManifestError(file, line, '', syntax.message.split('\n')[0] ?? 'invalid YAML');
  }
  const value: unknown = document.toJS() ?? {};
  if (!manifestSchema.Check(value)) {
    const first = manifestSchema.Errors(value).First();
    const segments = (first?.path ?? '')
      .split('/')
      .filter(Boolean)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const extra =
      first && first.schema && 'additionalProperties' in first.schema ? ' (unknown property?)' : '';
    throw new ManifestError(
      file,
      lineOf(segments),
      displayPath(segments),
      `${first?.message ?? 'invalid'}${extra}`,
    );
  }
  return { manifest: value, lineOf };
}

export function displayPath(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
