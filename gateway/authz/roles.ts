import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { expandActions, isDataAction, type DataAction } from './data-actions.js';
import { isResourceType } from './resource-types.js';

/** A role: data actions granted minus those denied, optionally narrowed to some resource types. */
export interface RoleDefinition {
  name: string;
  description: string;
  dataActions: string[];
  notDataActions: string[];
  /** Hearth extension: the role applies only to these resource types. Absent: all types. */
  resourceTypes?: string[];
  builtIn: boolean;
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

const roleFileSchema = z.object({
  roles: z.array(
    z.object({
      name: z.string().min(1).max(128),
      description: z.string().optional(),
      dataActions: z.array(z.string()),
      notDataActions: z.array(z.string()).default([]),
      scopes: z.array(z.string()).default(['/']),
      resourceTypes: z.array(z.string()).optional(),
    }),
  ),
});

export class RolesFileError extends Error {
  override readonly name = 'RolesFileError';
}

/** Parses a roles.json document (microsoft/fhir-server shape); throws a RolesFileError naming the fault. */
export function parseRolesFile(text: string, source = 'ROLES_FILE'): RoleDefinition[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RolesFileError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = roleFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new RolesFileError(
      `${source}: ${first?.path.join('.') ?? ''} ${first?.message ?? 'invalid'}`,
    );
  }
  return parsed.data.roles.map((r) => {
    for (const a of [...r.dataActions, ...r.notDataActions]) {
      if (a !== '*' && !isDataAction(a))
        throw new RolesFileError(`${source}: role ${r.name}: unknown data action "${a}"`);
    }
    if (r.scopes.some((s) => s !== '/')) {
      throw new RolesFileError(`${source}: role ${r.name}: only the scope "/" is supported`);
    }
    const role: RoleDefinition = {
      name: r.name,
      description: r.description ?? 'custom role',
      dataActions: r.dataActions,
      notDataActions: r.notDataActions,
      builtIn: false,
    };
    if (r.resourceTypes !== undefined) {
      for (const t of r.resourceTypes) {
        if (!isResourceType(t))
          throw new RolesFileError(`${source}: role ${r.name}: unknown resource type "${t}"`);
      }
      role.resourceTypes = r.resourceTypes;
    }
    return role;
  });
}

interface CompiledRole {
  def: RoleDefinition;
  actions: Set<DataAction>;
  types: Set<string> | undefined;
}

/** The role catalogue: built-in roles plus custom ones (a custom role may not redefine a built-in). */
export class RoleSet {
  private readonly roles = new Map<string, CompiledRole>();

  constructor(custom: readonly RoleDefinition[] = []) {
    for (const def of [...BUILT_IN_ROLES, ...custom]) {
      if (this.roles.has(def.name)) throw new RolesFileError(`role ${def.name} is defined twice`);
      const actions = expandActions(def.dataActions);
      for (const denied of expandActions(def.notDataActions)) actions.delete(denied);
      this.roles.set(def.name, {
        def,
        actions,
        types: def.resourceTypes === undefined ? undefined : new Set(def.resourceTypes),
      });
    }
  }

  static fromFile(file: string | undefined): RoleSet {
    if (file === undefined) return new RoleSet();
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new RolesFileError(`ROLES_FILE ${file}: ${(err as Error).message}`);
    }
    return new RoleSet(parseRolesFile(text, `ROLES_FILE ${file}`));
  }

  /** Whether any of `roleNames` grants `action` (on `resourceType`, when the action concerns one). */
  allows(roleNames: readonly string[], action: DataAction, resourceType?: string): boolean {
    return roleNames.some((name) => {
      const role = this.roles.get(name);
      if (role?.actions.has(action) !== true) return false;
      return role.types === undefined || resourceType === undefined || role.types.has(resourceType);
    });
  }

  /** Every role with its effective data actions, for `hearth roles`. */
  list(): {
    name: string;
    description: string;
    builtIn: boolean;
    dataActions: DataAction[];
    notDataActions: string[];
    resourceTypes?: string[];
  }[] {
    return [...this.roles.values()].map(({ def, actions }) => ({
      name: def.name,
      description: def.description,
      builtIn: def.builtIn,
      dataActions: [...actions],
      notDataActions: def.notDataActions,
      ...(def.resourceTypes === undefined ? {} : { resourceTypes: def.resourceTypes }),
    }));
  }
}
