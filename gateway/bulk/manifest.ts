import type { ExportJob, ImportJob, Job } from './job.js';

/** The completion manifests (Bulk Data IG v2 for export; Azure's shape for import) and X-Progress. */

export function exportManifest(job: ExportJob, filesBase: string) {
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output: job.output.map((f) => ({
      type: f.type,
      url: `${filesBase}/${f.file}`,
      count: f.count,
    })),
    error: job.error.map((f) => ({ type: f.type, url: `${filesBase}/${f.file}`, count: f.count })),
  };
}

export function importManifest(job: ImportJob, filesBase: string) {
  const output = Object.entries(job.cursor.counts).map(([key, count]) => {
    const [index = '0', type = ''] = key.split('|');
    return { type, count, inputUrl: job.params.inputs[Number(index)]?.url ?? '' };
  });
  return {
    transactionTime: job.transactionTime,
    request: job.request,
    requiresAccessToken: true,
    output,
    error: job.error.map((f) => ({ type: f.type, url: `${filesBase}/${f.file}`, count: f.count })),
  };
}

export function progressOf(job: Job, queuePosition: number): string {
  if (queuePosition > 0) return `queued (position ${queuePosition})`;
  if (job.kind === 'export') {
    const c = job.cursor;
    const type =
      job.params.types[c.typeIndex] ??
      (c.typeIndex === job.params.types.length && job.params.associated !== undefined
        ? 'associated Provenance'
        : 'done');
    return `${c.typeIndex}/${job.params.types.length} types, ${job.resources} resources, now ${type}`;
  }
  const c = job.cursor;
  return `input ${c.inputIndex + 1}/${job.params.inputs.length}, line ${c.line}, ${c.errors} errors`;
}
