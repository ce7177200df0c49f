import type { Logger } from '../../common/logger.js';
import { QueryTimeoutError } from '../engines/engine.js';
import { FhirError, issue } from '../fhir/outcome.js';
import { outcomeResponse } from './respond.js';
import type { StoreResponse } from './types.js';

function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

/**
 * The one mapping from anything thrown to an OperationOutcome answer. A FhirError answers with its
 * status; a query over its time budget is a 400 too-costly; a database busy past its timeout is a 503
 * (retry); anything else is a 500 whose details go only to the log.
 */
export function errorResponse(err: unknown, log: Logger): StoreResponse {
  if (err instanceof FhirError) return outcomeResponse(err.status, err.issues, err.headers);
  if (err instanceof QueryTimeoutError) {
    return outcomeResponse(400, [
      issue(
        'error',
        'too-costly',
        'the request took longer than its time budget and was stopped; narrow it down',
      ),
    ]);
  }
  const code = sqliteCode(err);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    log.warn({ err }, 'database busy');
    return outcomeResponse(
      503,
      [issue('error', 'transient', 'the database is busy; retry shortly')],
      {
        'retry-after': '1',
      },
    );
  }
  log.error({ err }, 'unexpected error');
  return outcomeResponse(500, [issue('error', 'exception', 'internal server error')]);
}
