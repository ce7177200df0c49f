import { badRequest, isFhirError, type FhirError } from '../../store/fhir/outcome.js';
import { authorize, mergeConstraints, type AuthzInput, type Decision } from './decide.js';
import { parseInteraction, type FhirInteraction } from './interaction.js';

export interface BundleEntryRequest {
  method: string;
  url: string;
  ifNoneExist?: string;
}

export interface EntryDecision {
  index: number;
  request: BundleEntryRequest;
  /** The parsed interaction, or the FhirError that makes the entry invalid. */
  interaction: FhirInteraction | FhirError;
  decision: Decision | undefined;
}

export interface BundleDecision {
  type: 'batch' | 'transaction';
  entries: EntryDecision[];
  /** For a transaction: all entries allowed, with one merged constraint; else the first denial. */
  decision: Decision;
}

function entryRequests(body: unknown): {
  type: 'batch' | 'transaction';
  requests: BundleEntryRequest[];
} {
  if (typeof body !== 'object' || body === null) throw badRequest('the body must be a Bundle');
  const b = body as { resourceType?: unknown; type?: unknown; entry?: unknown };
  if (b.resourceType !== 'Bundle') throw badRequest('POST to the base needs a Bundle');
  if (b.type !== 'batch' && b.type !== 'transaction')
    throw badRequest('Bundle.type must be batch or transaction');
  const entries = b.entry === undefined ? [] : b.entry;
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be an array');
  const requests = entries.map((e: unknown, i): BundleEntryRequest => {
    const req = (
      e as { request?: { method?: unknown; url?: unknown; ifNoneExist?: unknown } } | null
    )?.request;
    if (typeof req?.method !== 'string' || typeof req.url !== 'string') {
      throw badRequest(`Bundle.entry[${i}].request needs a method and a url`, [
        `Bundle.entry[${i}].request`,
      ]);
    }
    return {
      method: req.method,
      url: req.url,
      ...(typeof req.ifNoneExist === 'string' ? { ifNoneExist: req.ifNoneExist } : {}),
    };
  });
  return { type: b.type, requests };
}

/** Splits an entry's relative url into path and query. */
export function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const q = url.indexOf('?');
  return q < 0
    ? { path: url, query: new URLSearchParams() }
    : { path: url.slice(0, q), query: new URLSearchParams(url.slice(q + 1)) };
}

/**
 * Decides a batch (each entry alone) or a transaction (any denied entry refuses the whole; the
 * allowed whole gets one constraint no wider than any entry's).
 */
export function authorizeBundle(body: unknown, input: AuthzInput): BundleDecision {
  const { type, requests } = entryRequests(body);
  const entries: EntryDecision[] = requests.map((request, index) => {
    const { path, query } = splitUrl(request.url);
    try {
      const ix = parseInteraction(request.method, path, query, request.ifNoneExist);
      if (ix.kind === 'bundle' || ix.kind === 'capabilities') {
        throw badRequest(
          `Bundle.entry[${index}]: ${request.method} ${request.url} is not allowed in a bundle`,
        );
      }
      return { index, request, interaction: ix, decision: authorize(ix, input) };
    } catch (err) {
      if (!isFhirError(err)) throw err;
      return { index, request, interaction: err, decision: undefined };
    }
  });
  if (type === 'batch') {
    return {
      type,
      entries,
      decision: {
        allow: true,
        reason: 'batch entries are decided one by one',
        constraint: { types: {} },
        scopes: [],
      },
    };
  }
  let merged: Decision | undefined;
  for (const e of entries) {
    if (isFhirError(e.interaction)) throw e.interaction;
    const d = e.decision;
    if (d === undefined) continue;
    if (!d.allow) {
      return {
        type,
        entries,
        decision: {
          ...d,
          rule: 'transaction-entry-denied',
          reason: `entry ${e.index} (${e.request.method} ${e.request.url}): ${d.reason}`,
        },
      };
    }
    if (merged === undefined || !merged.allow) {
      merged = d;
      continue;
    }
    const constraint = mergeConstraints(merged.constraint, d.constraint);
    if (constraint === undefined) {
      return {
        type,
        entries,
        decision: {
          allow: false,
          status: 403,
          rule: 'scopes-do-not-combine',
          reason: `entry ${e.index}: its access does not combine with the other entries'`,
          insufficientScope: true,
        },
      };
    }
    merged = {
      allow: true,
      reason: 'every transaction entry is allowed',
      constraint,
      scopes: [...new Set([...merged.scopes, ...d.scopes])],
    };
  }
  return {
    type,
    entries,
    decision: merged ?? {
      allow: true,
      reason: 'empty transaction',
      constraint: { types: {} },
      scopes: [],
    },
  };
}
