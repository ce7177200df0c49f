/**
 * Search for the built-in store: the index (written inside the store's write transactions),
 * the search executor (type, system, compartment, $everything), conditional-operation matching,
 * reindex and statistics. See README section "Search" in the report for wiring.
 */
export { searchSchema } from './schema.js';
export { indexResource, unindexResource, type ResourceLike } from './indexing/index-resource.js';
export { executeSearch, type SearchInput, type SearchLimits } from './execute.js';
export type { SearchPage, PageEntry, PageLink } from './results/page.js';
export { renderSearchBundle } from './results/bundle.js';
export {
  findMatches,
  conditionalTargets,
  resolveConditionalReference,
  CONDITIONAL_REFERENCE,
  type Match,
  type FindOptions,
  type ConditionalKind,
} from './conditional.js';
export {
  reindexAll,
  refreshStatistics,
  StatisticsKeeper,
  validateSearchParameter,
} from './maintenance.js';
export { registerSearchCommands, type OpenEngine } from './cli/register-search-commands.js';
export { searchRequestFromHttp, type HttpSearchRequest } from './http-input.js';
export { createSearchProvider, searchIndexer } from './provider.js';
export { describeSearch } from './capabilities.js';
export { inPatientCompartment, PATIENT_COMPARTMENT } from './definitions/patient-compartment.js';
export { isResourceType, RESOURCE_TYPES } from './definitions/resource-types.js';
export { parseReference } from './indexing/to-rows.js';
