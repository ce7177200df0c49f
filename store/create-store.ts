import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Config } from '../common/config.js';
import type { Logger } from '../common/logger.js';
import type { Engine } from './engines/engine.js';
import { useTypeSchemas } from './fhir/type-schemas.js';
import { warmUpValidator } from './fhir/validate.js';
import { capabilityStatement } from './rest/metadata.js';
import { bulkStoreEndpoint } from './bulk/index.js';
import { ValidatorThread } from './bundle/validator-thread.js';
import { nodeHandler } from './http/node-handler.js';
import { dispatch } from './http/router.js';
import type { SearchProvider, StoreContext, StoreRequest, StoreResponse } from './http/types.js';
import type { Indexer } from './repo/indexer.js';
import { Repository } from './repo/repository.js';
import { storeSchema } from './repo/schema.js';

export interface CreateStoreOptions {
  config: Config;
  engine: Engine;
  /** The search-index hook of the write path (`noIndexing` until search is wired in). */
  indexer: Indexer;
  log: Logger;
  /** Searches and conditional operations (store/search); without it they answer 501 / 400. */
  search?: SearchProvider;
  /** Public FHIR base URL used in every URL the store emits (default `config.fhirBaseUrl`). */
  baseUrl?: string;
  /** Protocol headers (store/protocol.ts) are honoured only when `x-hearth-internal` equals this. */
  internalSecret?: string;
  /** Clock for `meta.lastUpdated` (tests). */
  clock?: () => number;
  /**
   * Validate Bundle entries on a thread of their own, ahead of the transaction (default true;
   * false validates each entry on the event loop, which gives the same results).
   */
  validatorThread?: boolean;
}

export interface Store {
  /** The node:http request listener (give it to `http.createServer` or call it from tests). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** A server using `handle`, not listening (the caller calls `listen`). */
  server(): Server;
  /** Runs one FHIR request in-process (the import CLI uses it: same write path as HTTP). */
  dispatch(req: StoreRequest): Promise<StoreResponse>;
  readonly context: StoreContext;
  /**
   * Loads the R4 data types into the validator (~0.1 s of CPU, once) in small steps that keep the
   * event loop free; each resource type's definition loads when first used. Writes load them on
   * first use anyway; store/main.ts calls this once its first requests are answered and a
   * moment passes without a new one, so the first write usually finds the validator ready.
   */
  warmUp(): Promise<void>;
  /**
   * Builds the search definitions (the registry of R4 SearchParameters, ~0.1 s of CPU) by building
   * the CapabilityStatement once. Metadata, every search and every write need them first;
   * store/main.ts calls this as soon as it has said it is ready, while the rest of Hearth is still
   * starting, so the first such request does not pay for it.
   */
  prepareSearch(): void;
}

/**
 * The built-in FHIR R4 store: applies the schema (store tables and the indexer's), loads the R4
 * definitions, and returns the request handler. Never listens itself.
 */
export async function createStore(opts: CreateStoreOptions): Promise<Store> {
  const { config, engine, indexer, log } = opts;
  // This process validates: constraint matching sees the definitions from its first request.
  useTypeSchemas();
  await engine.migrate([...storeSchema(engine.dialect), ...indexer.schema(engine.dialect)]);
  const context: StoreContext = {
    config,
    engine,
    repo: new Repository(indexer, opts.clock),
    log,
    baseUrl: (opts.baseUrl ?? config.fhirBaseUrl).replace(/\/+$/, ''),
    search: opts.search,
    ...(opts.validatorThread === false ? {} : { validator: new ValidatorThread() }),
    deadline: () => Date.now() + config.queryTimeoutMs,
  };
  const fhir = nodeHandler(context, opts.internalSecret);
  const bulk = bulkStoreEndpoint(context, indexer, opts.internalSecret);
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (!bulk(req, res)) fhir(req, res);
  };
  return {
    handle,
    // The gateway's access constraint can be several KB (one entry per type under patient scopes).
    server: () => createServer({ keepAliveTimeout: 65_000, maxHeaderSize: 256 * 1024 }, handle),
    dispatch: (req) => dispatch(req, context),
    context,
    warmUp: () => warmUpValidator(),
    prepareSearch: () => {
      capabilityStatement(context);
    },
  };
}
