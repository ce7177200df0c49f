import type { Config } from '../../common/config.js';
import type { Logger } from '../../common/logger.js';
import type { Engine, Queryable, Tx } from '../engines/engine.js';
import type { ValidatorThread } from '../bundle/validator-thread.js';
import type { JsonValue } from '../fhir/json.js';
import type { OutcomeIssue } from '../fhir/outcome.js';
import type { AccessConstraint } from '../protocol.js';
import type { Repository } from '../repo/repository.js';

/** One FHIR REST request, from HTTP or from a batch/transaction Bundle entry. */
export interface StoreRequest {
  method: string;
  /** Path segments after the FHIR base, decoded (`['Patient', '123', '_history']`). */
  path: string[];
  query: URLSearchParams;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** Raw request body (HTTP). */
  body?: Buffer;
  /** Already parsed body (a Bundle entry's resource). */
  parsed?: JsonValue;
  requestId: string;
  /** Set only for trusted callers that sent one. */
  constraint?: AccessConstraint;
  /** The caller proved it is trusted (x-hearth-internal). */
  trusted: boolean;
  /** The transaction of the enclosing transaction Bundle: every read and write joins it. */
  tx?: Tx;
  /** The id a create must use (a transaction POST whose urn:uuid references were already rewritten). */
  assignId?: string;
  /** `Bundle.entry[n]` when the request is a Bundle entry. */
  entry?: number;
  /**
   * The validation issues of `parsed`, found by the Bundle validator thread for exactly this
   * resource (bundle/validator-thread.ts); absent: the handler validates it.
   */
  validated?: readonly OutcomeIssue[];
}

/** A resource version this response disclosed or changed (for the trusted caller's audit). */
export interface Disclosure {
  type: string;
  id: string;
  version: number;
  /** Plain JSON (or stored text) of the version, for its patient compartments. */
  resource?: Record<string, unknown>;
  json?: string;
}

export interface StoreResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text (`application/fhir+json`) unless `headers['content-type']` says otherwise. */
  body?: string | Buffer;
  disclosed?: Disclosure[];
}

/** Searches and conditional-operation matching, provided by store/search and plugged in. */
export interface SearchProvider {
  /**
   * `GET/POST [base]?…`, `[base]/[type]?…` (also `_search`), `[base]/[compartment]/[id]/[type]?…`.
   * Must honour `call.constraint` inside the query.
   */
  search(call: SearchCall): Promise<StoreResponse>;
  /** Ids of the current resources of `type` matching `params` (conditional create/update/delete/patch). */
  match(db: Queryable, type: string, params: URLSearchParams, call: MatchCall): Promise<string[]>;
  /**
   * Conditional references of a transaction (`"reference": "Patient?identifier=sys|v"`) resolved
   * to `Type/id` inside it; 412 when one matches none or several.
   */
  resolveReferences?(
    db: Queryable,
    resources: readonly unknown[],
    call: MatchCall,
  ): Promise<Map<string, string>>;
  /** Named operations the search side implements (`$everything`…); undefined: not handled. */
  operation?(call: OperationCall): Promise<StoreResponse | undefined>;
  /** Adds what search supports (search params, includes, operations) to the CapabilityStatement. */
  describe?(capability: Record<string, unknown>): void;
}

export interface SearchCall {
  db: Queryable;
  /** Absent for a system search. */
  type?: string;
  compartment?: { type: string; id: string };
  params: URLSearchParams;
  constraint?: AccessConstraint;
  /** Public FHIR base URL, for links and fullUrls. */
  baseUrl: string;
  deadline: number;
  request: StoreRequest;
}

export interface MatchCall {
  constraint?: AccessConstraint;
  deadline: number;
}

export interface OperationCall extends SearchCall {
  name: string;
  id?: string;
  method: string;
}

/** What handlers need, made once by createStore. */
export interface StoreContext {
  config: Config;
  engine: Engine;
  repo: Repository;
  log: Logger;
  /** Public FHIR base URL without trailing slash. */
  baseUrl: string;
  search: SearchProvider | undefined;
  /** Validates a Bundle's entries on a thread of its own, ahead of its transaction. */
  validator?: ValidatorThread;
  /** Absolute deadline for a query that starts now. */
  deadline(): number;
}

export type Handler = (req: StoreRequest, ctx: StoreContext) => Promise<StoreResponse>;
