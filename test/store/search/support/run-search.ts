import type { AccessConstraint } from '../../../../store/protocol.js';
import {
  executeSearch,
  searchRequestFromHttp,
  type SearchPage,
} from '../../../../store/search/index.js';
import type { WalkTuning } from '../../../../store/search/search-input.js';
import type { TestStore } from './test-store.js';

export const BASE = 'http://localhost:8080/fhir';

export const LIMITS = { defaultCount: 20, maxCount: 1000, queryTimeoutMs: 10_000 };

/** Runs `GET [base]/<url>` through the real HTTP-input and executor path. */
export async function search(
  store: TestStore,
  url: string,
  opts: {
    constraint?: AccessConstraint;
    strict?: boolean;
    limits?: Partial<typeof LIMITS> & { maxIncludes?: number; walk?: WalkTuning | false };
  } = {},
): Promise<SearchPage> {
  const [path = '', query = ''] = url.split('?');
  const input = searchRequestFromHttp({
    method: 'GET',
    path,
    query,
    baseUrl: BASE,
    constraint: opts.constraint,
    prefer: opts.strict === true ? 'handling=strict' : undefined,
  });
  return executeSearch(store.engine, input, { ...LIMITS, ...opts.limits });
}

/** The ids of the matches (search.mode match), sorted unless `ordered`. */
export async function ids(
  store: TestStore,
  url: string,
  opts: Parameters<typeof search>[2] = {},
  ordered = false,
): Promise<string[]> {
  const page = await search(store, url, opts);
  const out = page.entries.filter((e) => e.mode === 'match').map((e) => e.id);
  return ordered ? out : out.sort();
}
