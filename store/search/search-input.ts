import type { AccessConstraint } from '../protocol.js';

export interface SearchLimits {
  defaultCount: number;
  maxCount: number;
  queryTimeoutMs: number;
  /** Included resources per page (default 1000, as Azure); more are cut with a warning. */
  maxIncludes?: number;
  /** `:iterate` rounds (default 3). */
  maxIterate?: number;
  /** Absolute deadline (ms since epoch); default now + queryTimeoutMs. */
  deadline?: number;
  /**
   * When a page in row id order is found by walking rows (results/walk-page.ts); `false`: never,
   * every clause lists its matches. Default WALK_DEFAULTS. The results are the same either way.
   */
  walk?: WalkTuning | false;
}

/** How far a search walks rows before it lists matches instead (see results/walk-page.ts). */
export interface WalkTuning {
  /** Rows of the type a walk visits at most when its clauses are ranges of dates or values. */
  leafWindow: number;
  /** The same when a clause is a `_has`. */
  hasWindow: number;
  /** A clause listing fewer rows than this drives the search instead of a walk. */
  narrow: number;
  /** The same for a `_has` on PostgreSQL (SQLite uses `narrow`; see walk-plan.ts). */
  hasNarrow: number;
}

/** One search as the REST layer hands it over. */
export interface SearchInput {
  /** `[T]` for `GET [base]/T`, `[]` for system search (`_type` narrows it). */
  types: string[];
  /** Decoded query (or `application/x-www-form-urlencoded` POST body) pairs, in order. */
  params: [string, string][];
  /** Compartment search `Patient/123/…` (with `types` [] for `Patient/123/*`). */
  compartment?: { type: 'Patient'; id: string };
  /** `Patient/123/$everything`. */
  everything?: { id: string };
  constraint?: AccessConstraint | undefined;
  /** The FHIR base URL links are built on, without a trailing slash. */
  baseUrl: string;
  /** Path after the base for links: `Observation`, `Patient/1/Observation`, `Patient/1/$everything`, or `` (system). */
  path: string;
  /** `Prefer: handling=strict`. */
  strict: boolean;
}
