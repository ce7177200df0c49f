import type { Tx } from '../engines/engine.js';
import { stringifyJson, toPlain, type JsonObject } from '../fhir/json.js';
import { conflict } from '../fhir/outcome.js';
import type { Indexer } from '../repo/indexer.js';
import { withServerMeta } from '../repo/meta.js';
import { insertResourceRow } from '../repo/rows.js';

/** What an incremental import did with one resource version. */
export type VersionedOutcome = 'created' | 'updated' | 'history' | 'unchanged';

interface Current {
  rid: number | string;
  version: number;
  deleted: number;
}

/**
 * Writes `type/id` at exactly `version` and `lastUpdated` (incremental `$import` keeps both). A
 * newer version becomes current (indexed in the same transaction); an older one missing from the
 * history joins it; the same version with the same content again changes nothing (re-running an
 * interrupted import is safe); the same version with other content is a 409.
 */
export async function writeVersioned(
  tx: Tx,
  indexer: Indexer,
  resource: JsonObject,
  version: number,
  lastUpdated: number,
): Promise<VersionedOutcome> {
  const type = typeof resource.resourceType === 'string' ? resource.resourceType : '';
  const id = typeof resource.id === 'string' ? resource.id : '';
  await tx.lockKey(`${type}/${id}`);
  const stored = withServerMeta(resource, id, version, lastUpdated);
  const json = stringifyJson(stored);
  const current = await tx.get<Current>(
    'SELECT rid, version, deleted FROM resource WHERE type = ? AND id = ?',
    [type, id],
  );
  let rid: number;
  let outcome: VersionedOutcome;
  if (current === undefined) {
    rid = await insertResourceRow(tx, type, id, version, lastUpdated, json);
    outcome = 'created';
  } else {
    rid = Number(current.rid);
    const existing = await tx.get<{ json: string | null }>(
      'SELECT json FROM history WHERE rid = ? AND version = ?',
      [rid, version],
    );
    if (existing !== undefined) {
      if (existing.json === json) return 'unchanged';
      throw conflict(`version ${version} of ${type}/${id} already exists with other content`);
    }
    if (current.version > version) {
      await tx.run(
        'INSERT INTO history (rid, type, id, version, last_updated, method, json) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [rid, type, id, version, lastUpdated, 'PUT', json],
      );
      return 'history';
    }
    await tx.run(
      'UPDATE resource SET version = ?, last_updated = ?, deleted = 0, json = ? WHERE rid = ?',
      [version, lastUpdated, json, rid],
    );
    outcome = 'updated';
  }
  await tx.run(
    'INSERT INTO history (rid, type, id, version, last_updated, method, json) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [rid, type, id, version, lastUpdated, outcome === 'created' ? 'POST' : 'PUT', json],
  );
  await indexer.index(tx, rid, toPlain(stored) as Record<string, unknown>, outcome === 'created');
  return outcome;
}
