/**
 * Paths into contracts and events: dotted attribute paths (`address.city`) as contracts name
 * attributes, and the paths rejections report (`data.items[2].sku`) from Ajv's JSON pointers.
 */
import { coversKey } from '../../lib/taxonomy.js';
import { isPlainObject } from './json-value.js';

export function isAttributeName(name: string): boolean {
  return name.length > 0 && !/[.[\]]/.test(name);
}

/** `true` when `attribute` is `outer` or lies inside it: `address` covers `address.city`. */
export function coversAttribute(outer: string, attribute: string): boolean {
  return coversKey(outer, attribute);
}

/** The value at a dotted attribute path, through plain objects only; undefined when absent. */
export function valueAt(data: unknown, attribute: string): unknown {
  let node: unknown = data;
  for (const segment of attribute.split('.')) {
    if (!isPlainObject(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

function pointerSegments(pointer: string): string[] {
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((segment) => segment.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function valueAtPointer(data: unknown, pointer: string): unknown {
  let node: unknown = data;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(node)) node = node[Number(segment)];
    else if (isPlainObject(node) && Object.hasOwn(node, segment)) node = node[segment];
    else return undefined;
  }
  return node;
}

/** A JSON pointer below `base` as a path: `/items/2/sku` -> `data.items[2].sku`, indexes where the data has arrays. */
export function pointerToPath(base: string, pointer: string, data: unknown): string {
  let path = base;
  let node: unknown = data;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(node) || (data === undefined && /^(0|[1-9][0-9]*)$/.test(segment))) {
      path += `[${segment}]`;
      node = Array.isArray(node) ? node[Number(segment)] : undefined;
    } else {
      path = childPath(path, segment);
      node = isPlainObject(node) && Object.hasOwn(node, segment) ? node[segment] : undefined;
    }
  }
  return path;
}

/** `parent.name`, or `parent["odd.name"]` when the name would not read back as one segment. */
export function childPath(parent: string, name: string): string {
  if (!isAttributeName(name) || /\s|"/.test(name)) return `${parent}[${JSON.stringify(name)}]`;
  return parent === '' ? name : `${parent}.${name}`;
}
