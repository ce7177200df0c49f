import type { DataAction } from '../../auth/roles/index.js';

export type { DataAction } from '../../auth/roles/index.js';

const AZURE_PREFIX = 'Microsoft.HealthcareApis/workspaces/fhirservices/resources/';

/** The Azure RBAC name of a data action (`…/resources/read`, `…/resources/export/action`). */
export function azureName(action: DataAction): string {
  return ['read', 'write', 'delete'].includes(action)
    ? `${AZURE_PREFIX}${action}`
    : `${AZURE_PREFIX}${action}/action`;
}
