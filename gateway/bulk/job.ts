/**
 * A bulk data job as persisted in `DATA_DIR/bulk/<id>/job.json`: enough to answer status polls and
 * to resume exactly where the job stopped after a restart.
 */

export type JobStatus = 'in-progress' | 'completed' | 'failed' | 'cancelled';

/** One finished output file of a job (relative to the job's folder). */
export interface JobFile {
  type: string;
  file: string;
  count: number;
  /** For import error files: the input file whose lines failed. */
  inputUrl?: string;
  /** The object key when the file is in the export bucket (else it is in the job's folder). */
  key?: string;
}

export interface ExportParams {
  level: 'system' | 'patient' | 'group';
  groupId?: string;
  /** Types to export, in order. */
  types: string[];
  since?: number;
  /** The transaction time: nothing updated later is exported. */
  until: number;
  /** `_typeFilter` queries per type. */
  typeFilters: Record<string, string[]>;
  /** Granular scope filters per type (absent: the whole type). */
  scopeFilters: Record<string, string[]>;
  /** `_elements` per type. */
  elements: Record<string, string[]>;
  /** Patient-level: these patients only (absent: every patient). */
  patients?: string[];
  /**
   * `includeAssociatedData`: Provenance resources targeting exported resources (`latest`: the most
   * recent one per resource), read within the caller's Provenance scope filters.
   */
  associated?: { mode: 'latest' | 'relevant'; scopeFilters?: string[] };
  /** Kick-off parameters ignored under `Prefer: handling=lenient`, reported in `error[]`. */
  warnings?: string[];
}

/** Where an export stands: the type being read, the store cursor, and the open output part. */
export interface ExportCursor {
  typeIndex: number;
  afterRid: number;
  part: number;
  partCount: number;
  partBytes: number;
  /** The store cursor where the open part began (a bucket part restarts from it). */
  partStartRid?: number;
  /** Bytes of the open part's `.entities` companion at the checkpoint (cut back to on resume). */
  entityBytes?: number;
}

export interface ImportInput {
  type: string | undefined;
  /** The URL as the client gave it (reported back). */
  url: string;
  /** The resolved file path below IMPORT_DIR (a file input). */
  path?: string;
  /** The object key in the export bucket (an `s3://` input). */
  key?: string;
}

export interface ImportParams {
  mode: 'InitialLoad' | 'IncrementalLoad';
  inputs: ImportInput[];
  /** Types the caller may write (`*` for any). */
  writableTypes: string[];
}

/** Where an import stands: the input file and the next line to read. */
export interface ImportCursor {
  inputIndex: number;
  line: number;
  /** Counts per input so far. */
  counts: Record<string, number>;
  errors: number;
  errorBytes: number;
}

interface JobBase {
  id: string;
  /** The client that started the job: nobody else sees it. */
  owner: string;
  status: JobStatus;
  /** The kick-off request URL. */
  request: string;
  transactionTime: string;
  createdAt: string;
  /** When a runner first started it (unset while it waits in the queue). */
  startedAt?: string;
  completedAt?: string;
  /** When the job and its files are removed. */
  expiresAt?: string;
  output: JobFile[];
  error: JobFile[];
  failure?: string;
}

export interface ExportJob extends JobBase {
  kind: 'export';
  params: ExportParams;
  cursor: ExportCursor;
  resources: number;
}

export interface ImportJob extends JobBase {
  kind: 'import';
  params: ImportParams;
  cursor: ImportCursor;
}

export type Job = ExportJob | ImportJob;
