import type { DataActionName } from './data-actions.js';

/**
 * A role in microsoft/fhir-server's roles.json shape: data actions granted minus those denied,
 * optionally narrowed to some resource types.
 */
export interface RoleDefinition {
  readonly name: string;
  readonly description: string;
  readonly dataActions: readonly DataActionName[];
  readonly notDataActions: readonly DataActionName[];
  /** Hearth extension: the role applies only to these resource types. Absent: all types. */
  readonly resourceTypes?: readonly string[];
  readonly builtIn: boolean;
}

/** The built-in roles: Azure API for FHIR's data-plane roles, plus `fhir-audit-reader`. */
export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  {
    name: 'fhir-data-reader',
    description: 'Read and search FHIR data (FHIR Data Reader)',
    dataActions: ['read'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-data-writer',
    description: 'Read, write and soft-delete FHIR data (FHIR Data Writer)',
    dataActions: ['read', 'write', 'delete'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-data-contributor',
    description: 'All data-plane operations (FHIR Data Contributor)',
    dataActions: ['*'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-data-exporter',
    description: 'Read and bulk-export FHIR data (FHIR Data Exporter)',
    dataActions: ['read', 'export'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-data-importer',
    description: 'Read and bulk-import FHIR data (FHIR Data Importer)',
    dataActions: ['read', 'import'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-smart-user',
    description: 'Read-only access for SMART apps within their scopes (FHIR SMART User)',
    dataActions: ['read', 'readById', 'search', 'smart'],
    notDataActions: [],
    builtIn: true,
  },
  {
    name: 'fhir-audit-reader',
    description: 'Read and search the audit trail at /fhir/AuditEvent',
    dataActions: ['auditRead'],
    notDataActions: [],
    builtIn: true,
  },
];
