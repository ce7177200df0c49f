import type { Config } from '../../common/config.js';
import { notFound, notSupported } from '../fhir/outcome.js';
import type {
  Disclosure,
  MatchCall,
  OperationCall,
  SearchCall,
  SearchProvider,
  StoreResponse,
} from '../http/types.js';
import type { Indexer } from '../repo/indexer.js';
import { describeSearch } from './capabilities.js';
import { findMatches, resolveConditionalReferences } from './conditional.js';
import { executeSearch, type SearchInput, type SearchLimits } from './execute.js';
import {
  indexResource,
  inlineIndex,
  unindexResource,
  type ResourceLike,
} from './indexing/index-resource.js';
import { statistics, validateSearchParameter } from './maintenance.js';
import type { SearchParameterResource } from './definitions/search-param.js';
import { renderSearchBundle } from './results/bundle.js';
import type { SearchPage } from './results/page.js';
import { searchSchema } from './schema.js';

const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/** The write-path hook the store calls inside each write transaction. */
export const searchIndexer: Indexer = {
  schema: searchSchema,
  index: (tx, rid, resource, fresh) => {
    beforeIndexing(resource);
    return indexResource(tx, rid, resource as ResourceLike, fresh);
  },
  unindex: unindexResource,
  inline: async (tx, resource) => {
    if (tx.dialect !== 'postgres') return undefined;
    beforeIndexing(resource);
    return inlineIndex(tx, resource as ResourceLike);
  },
};

/** What every indexing of a resource does first. */
function beforeIndexing(resource: Record<string, unknown>): void {
  // a SearchParameter whose expression does not compile is refused (400) before it is stored
  if (resource.resourceType === 'SearchParameter')
    validateSearchParameter(resource as unknown as SearchParameterResource);
  statistics.noteWrite();
}

function strict(call: SearchCall): boolean {
  return /(^|[;,\s])handling\s*=\s*strict/i.test(call.request.headers.prefer ?? '');
}

function respond(page: SearchPage, baseUrl: string): StoreResponse {
  const disclosed: Disclosure[] = page.entries.map((e) => ({
    type: e.type,
    id: e.id,
    version: e.version,
    json: e.stored,
  }));
  return {
    status: 200,
    headers: { 'content-type': FHIR_JSON },
    body: renderSearchBundle(page, baseUrl),
    disclosed,
  };
}

function linkPath(call: SearchCall): string {
  return call.request.path.filter((s) => s !== '_search').join('/');
}

/**
 * The store's SearchProvider: type, system and Patient-compartment search (GET and POST
 * `_search`), `Patient/[id]/$everything`, and conditional-operation matching; all inside the
 * caller's access constraint.
 */
export function createSearchProvider(config: Config): SearchProvider {
  const limits = (deadline: number): SearchLimits => ({
    defaultCount: config.searchDefaultCount,
    maxCount: config.searchMaxCount,
    queryTimeoutMs: config.queryTimeoutMs,
    deadline,
  });
  const base = (call: SearchCall): Omit<SearchInput, 'types'> => ({
    params: [...call.params],
    constraint: call.constraint,
    baseUrl: call.baseUrl,
    path: linkPath(call),
    strict: strict(call),
  });
  return {
    async search(call: SearchCall): Promise<StoreResponse> {
      // in the background: this search does not wait for a refresh it happens to trigger
      if (call.request.tx === undefined)
        void statistics.maybeRefresh(call.db).catch(() => undefined);
      const input: SearchInput = {
        ...base(call),
        types: call.type === undefined ? [] : [call.type],
      };
      if (call.compartment !== undefined) {
        if (call.compartment.type !== 'Patient')
          throw notSupported(
            `the ${call.compartment.type} compartment is not supported; use Patient`,
          );
        input.compartment = { type: 'Patient', id: call.compartment.id };
      }
      return respond(await executeSearch(call.db, input, limits(call.deadline)), call.baseUrl);
    },

    async match(db, type, params, call: MatchCall): Promise<string[]> {
      const found = await findMatches(db, type, params.toString(), {
        constraint: call.constraint,
        baseUrl: config.fhirBaseUrl,
        limit: config.conditionalDeleteMax + 1,
        queryTimeoutMs: Math.max(1, call.deadline - Date.now()),
      });
      return found.map((m) => m.id);
    },

    resolveReferences(db, resources, call: MatchCall): Promise<Map<string, string>> {
      return resolveConditionalReferences(db, resources, {
        constraint: call.constraint,
        baseUrl: config.fhirBaseUrl,
        queryTimeoutMs: Math.max(1, call.deadline - Date.now()),
      });
    },

    async operation(call: OperationCall): Promise<StoreResponse | undefined> {
      if (call.name !== '$everything') return undefined;
      if (call.type !== 'Patient' || call.id === undefined)
        throw notFound('$everything is served on Patient/[id]');
      if (call.method !== 'GET' && call.method !== 'POST') return undefined;
      const input: SearchInput = { ...base(call), types: [], everything: { id: call.id } };
      return respond(await executeSearch(call.db, input, limits(call.deadline)), call.baseUrl);
    },

    describe: describeSearch,
  };
}
