import type { Queryable } from '../engines/engine.js';
import { createRegistry, type SearchRegistry } from './definitions/registry.js';
import type { SearchParam, SearchParameterResource } from './definitions/search-param.js';
import { compileComposite, type CompositeExtractor } from './indexing/compile-composite.js';
import { compileExtractor, type Extractor } from './indexing/compile-expression.js';

/**
 * What search knows at one generation: the registry (shipped plus the custom SearchParameters
 * activated by the last reindex) and the compiled extractors. A reindex writes a new generation
 * into `search_meta`; writers and readers pick it up on their next call.
 */
export class SearchContext {
  private readonly extractors = new Map<string, Extractor | null>();
  private readonly composites = new Map<string, CompositeExtractor | null>();

  constructor(
    readonly generation: string,
    readonly registry: SearchRegistry,
  ) {}

  /** The compiled extractor of a parameter, compiled once; null when it has no expression. */
  extractor(param: SearchParam): Extractor | null {
    let e = this.extractors.get(param.key);
    if (e === undefined) {
      e = param.expression === undefined ? null : compileExtractor(param.expression);
      this.extractors.set(param.key, e);
    }
    return e;
  }

  /** The compiled tuples of a composite parameter, compiled once; null when it has no expression. */
  composite(param: SearchParam): CompositeExtractor | null {
    let e = this.composites.get(param.key);
    if (e === undefined) {
      e =
        param.expression === undefined
          ? null
          : compileComposite(
              param.expression,
              param.components.map((c) => c.expression),
            );
      this.composites.set(param.key, e);
    }
    return e;
  }
}

const contexts = new Map<string, SearchContext>();

export const GENERATION_KEY = 'generation';
export const CUSTOM_KEY = 'custom';

export function contextFor(generation: string, custom: SearchParameterResource[]): SearchContext {
  let ctx = contexts.get(generation);
  if (ctx === undefined) {
    ctx = new SearchContext(generation, createRegistry(custom));
    if (contexts.size > 16) contexts.clear();
    contexts.set(generation, ctx);
  }
  return ctx;
}

const recent = new WeakMap<Queryable, { ctx: SearchContext; until: number }>();
const RECHECK_MS = 1000;

/** Forgets what `q` last read, so its next call sees a new generation at once (after a reindex). */
export function forgetContext(q: Queryable): void {
  recent.delete(q);
}

/**
 * The context of the database `q` reads: one indexed lookup of the generation, at most once a
 * second per connection or transaction handle, then cached per generation.
 */
export async function loadContext(q: Queryable): Promise<SearchContext> {
  const now = Date.now();
  const hit = recent.get(q);
  if (hit !== undefined && hit.until > now) return hit.ctx;
  const ctx = await readContext(q);
  recent.set(q, { ctx, until: now + RECHECK_MS });
  return ctx;
}

async function readContext(q: Queryable): Promise<SearchContext> {
  const row = await q.get<{ value: string }>('SELECT value FROM search_meta WHERE key = ?', [
    GENERATION_KEY,
  ]);
  const generation = row?.value ?? '';
  const cached = contexts.get(generation);
  if (cached !== undefined) return cached;
  let custom: SearchParameterResource[] = [];
  if (generation !== '') {
    const c = await q.get<{ value: string }>('SELECT value FROM search_meta WHERE key = ?', [
      CUSTOM_KEY,
    ]);
    custom = c === undefined ? [] : (JSON.parse(c.value) as SearchParameterResource[]);
  }
  return contextFor(generation, custom);
}
