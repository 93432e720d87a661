import { PolicyInput, SystemInput } from '@lethe/api';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler, ValueErrorType } from '@sinclair/typebox/compiler';
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
  if (!manifestSchema.Check(value)) {
    // An unknown key explains a missing one better than the other way round (a typo: `retentoin`).
    const errors = [...manifestSchema.Errors(value)];
    const first =
      errors.find((error) => error.type === ValueErrorType.ObjectAdditionalProperties) ?? errors[0];
    const segments = (first?.path ?? '')
      .split('/')
      .filter(Boolean)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    const problem =
      first?.type === ValueErrorType.ObjectAdditionalProperties
        ? `unknown property "${segments.at(-1)}"`
        : (first?.message ?? 'invalid');
    throw new ManifestError(file, lineOf(segments), displayPath(segments), problem);
  }
  return { manifest: value, lineOf };
}

export function displayPath(segments: readonly (string | number)[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}
