/** The store's bulk data side (export stream, versioned import), wired in by createStore. */
export { bulkStoreEndpoint } from './endpoint.js';
export { BULK_EXPORT_PATH, BULK_IMPORT_PATH } from '../protocol.js';
export { exportLines } from './export-stream.js';
export { exportCount } from './export-count.js';
export { parseExportQuery, type ExportQuery } from './export-query.js';
export { importLines, type ImportMode, type LineResult } from './import-lines.js';
export { writeVersioned, type VersionedOutcome } from './import-versioned.js';
