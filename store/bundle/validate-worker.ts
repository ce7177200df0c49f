import { parentPort } from 'node:worker_threads';
import { isJsonObject, parseJson, plainView, toPlain } from '../fhir/json.js';
import type { OutcomeIssue } from '../fhir/outcome.js';
import { validateFhirResource, warmUpValidator } from '../fhir/validate.js';
import { parseEntry } from './entry.js';
import { rewriteReferences } from './references.js';
import {
  VALIDATOR_READY,
  validatesEntry,
  type ValidateReply,
  type ValidateRequest,
} from './validator-thread.js';

/**
 * The Bundle validator thread (started by `ValidatorThread`): for each POST and PUT entry of a
 * Bundle it validates the resource the entry will write, exactly as the event loop would
 * (`assertValid` after `entryRequest`): the body decoded and parsed as `bodyJson` does, the entry
 * as `parseEntry` reads it, placeholders rewritten with the transaction's map. Each line of an
 * `$import` batch it validates as `importOne` would. An entry or line it cannot read gets `null`
 * (the event loop then meets the same problem itself).
 */

if (parentPort === null) throw new Error('validate-worker runs as a worker thread');
const port = parentPort;

function validateLines(lines: readonly string[]): (OutcomeIssue[] | null)[] {
  return lines.map((text) => {
    if (text.trim() === '') return null;
    try {
      return validateFhirResource(toPlain(parseJson(text)));
    } catch {
      return null;
    }
  });
}

function validateEntries(m: ValidateRequest & { kind: 'bundle' }): (OutcomeIssue[] | null)[] {
  const bundle = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(m.body));
  const raw = isJsonObject(bundle) && Array.isArray(bundle.entry) ? bundle.entry : [];
  const map = new Map(m.placeholders);
  const issues = raw.map((value, i) => {
    try {
      const e = parseEntry(value, i);
      if (!validatesEntry(e) || e.resource === undefined) return null;
      const resource = rewriteReferences(e.resource, map);
      return isJsonObject(resource) ? validateFhirResource(plainView(resource)) : null;
    } catch {
      return null;
    }
  });
  return issues;
}

// Loads the validator before saying so: until then the event loop validates (no request waits).
await warmUpValidator();
port.postMessage(VALIDATOR_READY);

port.on('message', (m: ValidateRequest) => {
  let reply: ValidateReply;
  try {
    const issues = m.kind === 'bundle' ? validateEntries(m) : validateLines(m.lines);
    reply = { id: m.id, ok: true, issues };
  } catch (err) {
    reply = { id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
