import type { OutcomeIssue } from '../../fhir/outcome.js';
import type { SearchParam } from '../definitions/search-param.js';

/** A parsed search, resolved against the registry (see parse-request.ts). */

export type Clause =
  | {
      kind: 'param';
      param: SearchParam;
      modifier: string | undefined;
      /** OR list; each value keeps its escapes except the splitting commas. */
      values: string[];
      /** System search over several types: the param key is `<row type>.<code>`. */
      anyType?: boolean;
    }
  | { kind: 'chain'; param: SearchParam; targets: ChainTarget[]; anyType?: boolean }
  | {
      kind: 'has';
      type: string;
      param: SearchParam;
      next: Clause;
      /** The type searched (undefined in a search across types). */
      onType?: string;
    };

export interface ChainTarget {
  type: string;
  next: Clause;
}

export interface IncludeSpec {
  sourceType: string;
  /** Reference parameters to follow (all of the type's for `*`). */
  params: SearchParam[];
  targetType: string | undefined;
  iterate: boolean;
}

export interface SortRule {
  code: string;
  desc: boolean;
}

export type Total = 'none' | 'estimate' | 'accurate';
export type Summary = 'true' | 'text' | 'data' | 'count' | 'false';

export interface SearchRequest {
  /** The types searched: one for a type search; several for system search with `_type`; empty for all. */
  types: string[];
  /** Per type, the AND list of clauses (key `*` for system search without `_type`). */
  clauses: Map<string, Clause[]>;
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  sort: SortRule[];
  count: number;
  total: Total | undefined;
  summary: Summary | undefined;
  elements: string[] | undefined;
  cursor: string | undefined;
  /** Warnings for what lenient handling ignored. */
  issues: OutcomeIssue[];
  /** The parameters that took effect, to repeat in paging links (without `_cursor`). */
  echo: [string, string][];
}
