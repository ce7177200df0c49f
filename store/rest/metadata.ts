import { r4ResourceTypes } from '../fhir/resource-types.js';
import { jsonResponse } from '../http/respond.js';
import type { StoreContext, StoreRequest, StoreResponse } from '../http/types.js';
import { requireFhirFormat } from '../http/negotiate.js';

/**
 * GET /metadata: the CapabilityStatement, generated from what this store really does. Search adds
 * its own capabilities through SearchProvider.describe when it is wired in.
 */
export function capabilityStatement(ctx: StoreContext): Record<string, unknown> {
  const conditional = ctx.search !== undefined;
  const interactions = [
    'read',
    'vread',
    'update',
    'patch',
    'delete',
    'history-instance',
    'history-type',
    'create',
  ];
  const resource = [...r4ResourceTypes()].sort().map((type) => ({
    type,
    interaction: interactions.map((code) => ({ code })),
    versioning: 'versioned-update',
    readHistory: true,
    updateCreate: true,
    conditionalCreate: conditional,
    conditionalRead: 'full-support',
    conditionalUpdate: conditional,
    conditionalDelete: conditional ? 'multiple' : 'not-supported',
    operation: [
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      { name: 'purge-history', definition: `${ctx.baseUrl}/OperationDefinition/purge-history` },
    ],
  }));
  const cs: Record<string, unknown> = {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: new Date().toISOString(),
    publisher: 'Hearth',
    kind: 'instance',
    software: { name: 'Hearth FHIR store' },
    implementation: { description: 'Hearth built-in FHIR R4 store', url: ctx.baseUrl },
    fhirVersion: '4.0.1',
    format: ['application/fhir+json', 'json'],
    patchFormat: ['application/json-patch+json', 'application/fhir+json'],
    rest: [
      {
        mode: 'server',
        resource,
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }],
      },
    ],
  };
  ctx.search?.describe?.(cs);
  return cs;
}

export function metadata(req: StoreRequest, ctx: StoreContext): Promise<StoreResponse> {
  requireFhirFormat(req);
  return Promise.resolve(jsonResponse(200, capabilityStatement(ctx)));
}
