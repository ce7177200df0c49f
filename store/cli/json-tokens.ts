import { createReadStream } from 'node:fs';
import { parser } from 'stream-json';
import { parseNumber, type JsonObject, type JsonValue } from '../fhir/json.js';

/**
 * Streams a JSON file: the top-level object's scalar members as they come, and each element of its
 * `entry` array as a lossless value once complete — so a Bundle of any size is never held whole.
 */

export type TopLevelItem =
  | { kind: 'member'; key: string; value: JsonValue }
  | { kind: 'entry'; index: number; value: JsonValue };

type Frame = { container: JsonValue[] } | { container: JsonObject; key: string | undefined };

export async function* streamTopLevel(
  file: string,
  onBytes: (n: number) => void,
): AsyncGenerator<TopLevelItem> {
  const input = createReadStream(file);
  input.on('data', (chunk) => {
    onBytes(chunk.length);
  });
  const tokens = input.pipe(parser.asStream({ streamValues: false }));
  const stack: Frame[] = [];
  let topKey: string | undefined;
  let entryIndex = 0;
  let inEntries = false;

  // Completes a value at the current depth; yields what the caller streams.
  const place = (value: JsonValue): TopLevelItem | undefined => {
    const top = stack[stack.length - 1];
    if (top === undefined) return undefined;
    if ('key' in top) {
      if (top.key !== undefined) top.container[top.key] = value;
      top.key = undefined;
      return undefined;
    }
    top.container.push(value);
    return undefined;
  };

  for await (const raw of tokens) {
    const tok = raw as { name: string; value?: unknown };
    const depth = stack.length;
    // depth 1: inside the top-level object; depth 2 with inEntries: inside the entry array.
    let scalar: JsonValue;
    switch (tok.name) {
      case 'startObject':
        if (depth === 0) stack.push({ container: {}, key: undefined });
        else if (depth === 1 && topKey === 'entry')
          throw new Error('Bundle.entry must be an array');
        else stack.push({ container: {}, key: undefined });
        continue;
      case 'startArray':
        if (depth === 1 && topKey === 'entry') {
          inEntries = true;
          stack.push({ container: [] });
          continue;
        }
        stack.push({ container: [] });
        continue;
      case 'endObject':
      case 'endArray': {
        const frame = stack.pop();
        if (frame === undefined) continue;
        if (stack.length === 0) return;
        if (inEntries && stack.length === 1) {
          inEntries = false;
          topKey = undefined;
          const top = stack[0];
          if (top !== undefined && 'key' in top) top.key = undefined;
          continue;
        }
        scalar = frame.container;
        break;
      }
      case 'keyValue': {
        const top = stack[stack.length - 1];
        if (top !== undefined && 'key' in top) top.key = tok.value as string;
        if (depth === 1) topKey = tok.value as string;
        continue;
      }
      case 'stringValue':
        scalar = tok.value as string;
        break;
      case 'numberValue':
        scalar = parseNumber(tok.value as string);
        break;
      case 'nullValue':
        scalar = null;
        break;
      case 'trueValue':
        scalar = true;
        break;
      case 'falseValue':
        scalar = false;
        break;
      default:
        continue;
    }
    const after = stack.length;
    if (inEntries && after === 2) {
      // An element of `entry` is complete: hand it out instead of keeping it.
      yield { kind: 'entry', index: entryIndex++, value: scalar };
      continue;
    }
    if (after === 1 && topKey !== undefined && topKey !== 'entry') {
      yield { kind: 'member', key: topKey, value: scalar };
    }
    place(scalar);
  }
}
