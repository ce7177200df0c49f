import type { DataAction } from './data-actions.js';
import type { Permission } from './grant.js';
import type { FhirInteraction } from './interaction.js';

/** What an interaction needs: SMART permissions on its type, role data actions, and limits. */
export interface Requirement {
  /** SMART v2 permissions needed on the target type (all of them). */
  perms: Permission[];
  /** Data actions every one of which a role must grant. */
  actions: DataAction[];
  /** Only `system/` scopes may do this (bulk operations, as in Azure). */
  systemOnly?: boolean;
  /** Refused when the target type's access is confined to a patient compartment. */
  notConfined?: boolean;
}

/** Known operations (without `$`). Unknown operations are refused: they cannot be reasoned about. */
const OPERATIONS: Record<string, Requirement> = {
  everything: { perms: ['r'], actions: ['readById', 'search'] },
  export: { perms: ['r'], actions: ['export'], systemOnly: true },
  import: { perms: ['c', 'u'], actions: ['import'], systemOnly: true },
  validate: { perms: ['r'], actions: ['resourceValidate'] },
  meta: { perms: ['r'], actions: ['readById'] },
  expand: { perms: ['r'], actions: ['readById'] },
  lookup: { perms: ['r'], actions: ['readById'] },
  'validate-code': { perms: ['r'], actions: ['readById'] },
  translate: { perms: ['r'], actions: ['readById'] },
  subsumes: { perms: ['r'], actions: ['readById'] },
  'purge-history': { perms: ['d'], actions: ['delete', 'purgeHistory'], notConfined: true },
  reindex: { perms: ['u'], actions: ['reindex'], systemOnly: true },
  'bulk-delete': { perms: ['d', 's'], actions: ['delete', 'bulkOperator'], systemOnly: true },
  'convert-data': { perms: [], actions: ['convertData'] },
};

export function operationKnown(name: string): boolean {
  return Object.hasOwn(OPERATIONS, name);
}

/** The requirement of a (non-bundle) interaction, or undefined for an unknown operation. */
export function requirementOf(ix: FhirInteraction): Requirement | undefined {
  const hard = ix.query.get('hardDelete') === 'true' || ix.query.get('_hardDelete') === 'true';
  switch (ix.kind) {
    case 'read':
    case 'vread':
    case 'history-instance':
      return { perms: ['r'], actions: ['readById'] };
    case 'search-type':
    case 'search-system':
      return { perms: ['s'], actions: ['search'] };
    case 'history-type':
    case 'history-system':
      return { perms: ['s'], actions: ['search'], notConfined: true };
    case 'create':
      return ix.conditional
        ? { perms: ['c', 's'], actions: ['create', 'search'] }
        : { perms: ['c'], actions: ['create'] };
    case 'update':
      return ix.conditional
        ? { perms: ['u', 'c', 's'], actions: ['update', 'create', 'search'] }
        : { perms: ['u'], actions: ['update'] };
    case 'patch':
      return ix.conditional
        ? { perms: ['u', 's'], actions: ['update', 'search'] }
        : { perms: ['u'], actions: ['update'] };
    case 'delete': {
      const actions: DataAction[] = hard ? ['delete', 'hardDelete'] : ['delete'];
      return ix.conditional
        ? { perms: ['d', 's'], actions: [...actions, 'search'] }
        : { perms: ['d'], actions };
    }
    case 'capabilities':
    case 'bundle':
      return { perms: [], actions: [] };
    case 'operation':
      return ix.operation === undefined ? undefined : OPERATIONS[ix.operation];
  }
}
