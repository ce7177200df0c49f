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
