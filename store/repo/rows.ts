/** Rows of the store's tables, as queries return them. */

export interface ResourceRow {
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  deleted: number;
  json: string;
}

export interface HistoryRow {
  hid: number;
  rid: number;
  type: string;
  id: string;
  version: number;
  last_updated: number;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** NULL for a delete. */
  json: string | null;
}

export const RESOURCE_COLUMNS = 'rid, type, id, version, last_updated, deleted, json';
export const HISTORY_COLUMNS = 'hid, rid, type, id, version, last_updated, method, json';
