import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type Serializer = (data: unknown) => string;

/**
 * Fastify's own schema compilers (Ajv for requests, fast-json-stringify for responses), shared by
 * every app of the process instead of made anew for each: compiling the routes' schemas is most of
 * the cost of building an app (about a second), and the schemas are the same module-level objects
 * each time. Ajv keeps what it compiled per schema object, and so does the serializer cache here,
 * per set of shared schemas and options; the behaviour is the default compilers', unchanged.
 * One app per process (`lethe serve`) compiles as before; a process that builds several apps
 * (tests, an embedder's restarts) compiles each schema once.
 */
const buildValidator = AjvCompiler();

const serializerSelector = SerializerSelector();
const serializers = new Map<string, WeakMap<object, Serializer>>();

const buildSerializer: BuildSerializer = (externalSchemas, serializerOptions) => {
  const build = serializerSelector(externalSchemas, serializerOptions);
  const key = JSON.stringify([externalSchemas, serializerOptions]);
  let compiled = serializers.get(key);
  if (!compiled) serializers.set(key, (compiled = new WeakMap()));
  const cache = compiled;
  return (route) => {
    const schema = route.schema as object;
    let serializer = cache.get(schema);
    if (!serializer) cache.set(schema, (serializer = build(route) as Serializer));
    return serializer;
  };
};

export const sharedSchemaCompilers: CompilersFactory = { buildValidator, buildSerializer };
